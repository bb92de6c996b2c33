"""Places: the gazetteer shipped with watcher (names, coordinates, places inside places).

Sits below `watcher.text` and imports only the leaves: `~Name`, `place:` terms and match
locations all ask the same `load()`ed gazetteer. docs/gazetteer.md says what is in it.
"""

from watcher.places.fold import name_key
from watcher.places.gazetteer import Gazetteer, Place, load

__all__ = ["Gazetteer", "Place", "load", "name_key"]
