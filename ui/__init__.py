"""The web app (``survey-assistant serve``): Gradio Blocks with chat, library, demos and
evaluation tabs. Tab files hold layout and wiring; what they call lives in the small modules next
to them (``chat_turns``, ``chat_view``, ``uploads``, ``library``) and in ``assistant``, the only
package below it that it may import (never ``index`` directly). Nothing here imports Gradio at
import time of the package."""
