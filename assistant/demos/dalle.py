"""DALL-E demo: image generation through the OpenAI Images API or any compatible endpoint.

The survey calls ``openai.Image.create(prompt=…, n=1, size="256x256")``. Here the client gets
explicit timeouts and retries (the openai defaults would hold a request for ten minutes) and asks
for ``b64_json``: the images come back in the response, so the server never fetches a URL that an
endpoint chose (no request forgery through the reply).
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from assistant.errors import BackendError, ModelUnavailableError, UsageError
from assistant.settings import Settings

SIZES = ("256x256", "512x512", "1024x1024", "1792x1024", "1024x1792")
MAX_PROMPT_CHARS = 4000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
NOT_CONFIGURED = (
    "图像生成未配置。 Image generation is not configured: set OPENAI_API_KEY for OpenAI, or "
    "OPENAI_BASE_URL (and a key if it needs one) for a compatible server, then restart the app."
)


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str = "dall-e-3"
    size: str = "1024x1024"
    n: int = 1

    def __post_init__(self) -> None:
        if not self.prompt or not self.prompt.strip():
            raise UsageError("The prompt is empty; describe the image to generate.")
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise UsageError(
                f"The prompt is {len(self.prompt)} characters long, over the limit of "
                f"{MAX_PROMPT_CHARS}; shorten it."
            )
        if not self.model or not self.model.strip():
            raise UsageError("The image model name is empty; type one, e.g. dall-e-3.")
        if self.size not in SIZES:
            raise UsageError(f"The size must be one of {', '.join(SIZES)}.")
        if not 1 <= int(self.n) <= MAX_IMAGES:
            raise UsageError(f"n must be between 1 and {MAX_IMAGES}.")


def images_configured() -> bool:
    return bool(Settings.openai_api_key() or Settings.openai_base_url())


def generate_images(settings: Settings, request: ImageRequest) -> list:
    """PIL images generated for the request; every failure is one clear AssistantError."""
    if not images_configured():
        raise ModelUnavailableError(NOT_CONFIGURED)
    import httpx2
    import openai

    key = Settings.openai_api_key()
    client = openai.OpenAI(
        base_url=Settings.openai_base_url(),
        api_key=key.get_secret_value() if key else "not-needed",  # local servers accept any key
        timeout=httpx2.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s),
        max_retries=settings.max_retries,
    )
    try:
        response = client.images.generate(
            model=request.model.strip(),
            prompt=request.prompt,
            size=request.size,
            n=int(request.n),
            response_format="b64_json",
        )
    except openai.APITimeoutError as exc:
        raise BackendError(_failure("did not answer in time")) from exc
    except openai.APIConnectionError as exc:
        raise BackendError(_failure("cannot be reached; check OPENAI_BASE_URL")) from exc
    except openai.AuthenticationError as exc:
        raise BackendError(_failure("rejected the API key; check OPENAI_API_KEY")) from exc
    except openai.RateLimitError as exc:
        raise BackendError(
            _failure("is rate-limiting requests (HTTP 429); wait and retry")
        ) from exc
    except openai.APIStatusError as exc:
        detail = _short(getattr(exc, "message", "") or "")
        raise BackendError(
            _failure(
                f"refused the request (HTTP {exc.status_code}{': ' + detail if detail else ''})"
            )
        ) from exc
    except (openai.OpenAIError, ValueError) as exc:
        raise BackendError(_failure(f"sent an invalid reply ({type(exc).__name__})")) from exc
    images = [decode_image(item) for item in (response.data or [])]
    if not images:
        raise BackendError(_failure("returned no images"))
    return images


def decode_image(item) -> object:
    """One ``b64_json`` item as a PIL image, refusing URLs, oversized data and non-images."""
    from PIL import Image

    data = getattr(item, "b64_json", None)
    if not data:
        raise BackendError(
            _failure(
                "returned image URLs instead of image data; it must support response_format=b64_json"
            )
        )
    if len(data) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise BackendError(_failure("returned an image over 20 MB"))
    try:
        raw = base64.b64decode(data, validate=True)
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > MAX_PIXELS:
            raise BackendError(_failure("returned an image that is too large"))
        image.load()
    except (binascii.Error, OSError, Image.DecompressionBombError) as exc:
        raise BackendError(_failure("returned data that is not an image")) from exc
    return image


def _failure(reason: str) -> str:
    return f"The image endpoint {reason}."


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
