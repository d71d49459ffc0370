# ``python -m assistant`` (contracts.md) runs the command line, which sits above this package;
# this entry point is the one import upwards that the layer contract allows (.importlinter).
from cli.main import entry

entry()
