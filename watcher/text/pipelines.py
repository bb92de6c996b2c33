"""Which spaCy pipeline is asked for: the blank English one, or an installed English one.

Checked without loading the pipeline, and for blank:en without importing spaCy at all, so
`watcher rules check` can check the setting in no time (watcher/text/analysis.py loads it).
"""

from __future__ import annotations

from pathlib import Path

from watcher.errors import ConfigError

BLANK_PIPELINE = "blank:en"


def check_pipeline(name: str) -> None:
    """ConfigError unless `name` is blank:en, or an installed pipeline package or a pipeline
    directory for English; without loading it (loading a trained pipeline takes seconds).
    Its language is read where spaCy reads it: a package's meta.json, a folder's config.cfg."""
    if name == BLANK_PIPELINE:
        return
    import spacy.util  # only now: the blank pipeline's check needs no spaCy

    if spacy.util.is_package(name):
        _refuse_unless_english(name, _package_lang(name))
        return
    if Path(name).is_dir():
        if not (Path(name) / "config.cfg").is_file():  # what spacy.load reads first
            raise ConfigError(f"spaCy pipeline {name!r} cannot be loaded: no config.cfg in it")
        _refuse_unless_english(name, _folder_lang(name))
        return
    if name.startswith("blank:"):
        raise ConfigError(
            f"spaCy pipeline {name!r}: the only blank pipeline is {BLANK_PIPELINE} "
            "(rules' lemmas and variants are English)"
        )
    raise ConfigError(f"spaCy pipeline {name!r} is not installed (pip install it, or use blank:en)")


def _package_lang(name: str) -> object:
    import spacy.util

    try:
        return spacy.util.get_model_meta(spacy.util.get_package_path(name)).get("lang")
    except (OSError, ValueError) as error:
        raise unloadable(name, error) from None


def _folder_lang(name: str) -> object:
    import spacy.util

    try:
        config = spacy.util.load_config(Path(name) / "config.cfg", interpolate=False)
    except (OSError, ValueError) as error:  # confection's ConfigValidationError is a ValueError
        raise unloadable(name, error) from None
    return config.get("nlp", {}).get("lang")


def _refuse_unless_english(name: str, lang: object) -> None:
    if lang != "en":
        raise ConfigError(
            f"spaCy pipeline {name!r} is for language {lang!r}, not 'en' "
            "(rules' lemmas and variants are English)"
        )


def unloadable(name: str, error: Exception) -> ConfigError:
    reason = " ".join(str(error).split())
    return ConfigError(f"spaCy pipeline {name!r} cannot be loaded: {reason}")
