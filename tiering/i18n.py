"""User-facing text in Chinese (default) and English.

Messages live in catalogues under ``tiering/text/``, one module per area, each
a ``MESSAGES`` dict of ``key -> {"zh": template, "en": template}``. Templates
use ``str.format`` fields, so both languages share the same facts.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from functools import cache
from typing import Literal

from tiering import text
from tiering.errors import TieringError

logger = logging.getLogger(__name__)

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Return every message, merged from the modules in ``tiering.text``.

    Raises:
        ValueError: two catalogues define the same key, or a message lacks a
            language.
    """
    merged: dict[str, dict[str, str]] = {}
    for module_info in pkgutil.iter_modules(text.__path__):
        module = importlib.import_module(f"tiering.text.{module_info.name}")
        for key, templates in module.MESSAGES.items():
            if key in merged:
                raise ValueError(f"message key defined twice: {key}")
            missing = [lang for lang in LANGS if lang not in templates]
            if missing:
                raise ValueError(f"message {key} lacks {missing}")
            merged[key] = templates
    return merged


def t(key: str, lang: str = DEFAULT_LANG, **facts: object) -> str:
    """Return the message ``key`` in ``lang`` with ``facts`` filled in.

    An unknown key or language falls back to the key itself and Chinese, so a
    missing translation shows as text, never as a crash.
    """
    templates = catalogue().get(key)
    if templates is None:
        logger.warning("missing message key %s", key)
        return key
    template = templates.get(lang, templates[DEFAULT_LANG])
    facts = _translate_nested(facts, lang)
    try:
        return template.format(**facts)
    except (KeyError, IndexError, ValueError):
        logger.warning("message %s could not be filled", key)
        return template


def template(key: str, lang: str = DEFAULT_LANG) -> str:
    """Return the unfilled template of ``key`` (for SQL ``format`` calls)."""
    templates = catalogue().get(key)
    if templates is None:
        logger.warning("missing message key %s", key)
        return key
    return templates.get(lang, templates[DEFAULT_LANG])


def _translate_nested(facts: dict[str, object], lang: str) -> dict[str, object]:
    """Fill ``X`` from a fact ``X_key`` that names another message.

    This lets an error carry a translatable part (``problem_key``) next to
    plain facts, so both languages get a whole sentence.
    """
    nested = {
        name[: -len("_key")]: t(
            str(value),
            lang,
            **{k: v for k, v in facts.items() if not k.endswith("_key")},
        )
        for name, value in facts.items()
        if name.endswith("_key") and str(value) in catalogue()
    }
    return {**facts, **nested}


def describe_error(error: BaseException, lang: str = DEFAULT_LANG) -> str:
    """Return the sentence a user sees for ``error``.

    Named engine errors get their own message; anything else gets a generic
    sentence (the caller logs the details).
    """
    if isinstance(error, TieringError):
        return t(error.key, lang, **error.facts)
    return t("error.unexpected", lang)
