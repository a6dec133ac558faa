"""Spoken text and glosses as ids: byte tokens with sign-language tokens (:mod:`~signlib.text.tokens`),
word vocabularies (:mod:`~signlib.text.words`) and gloss vocabularies (:mod:`~signlib.text.glosses`).

Shared by the generator's text encoder, text-to-gloss, the regression baseline and back-translation,
so none of those model packages imports another.
"""
