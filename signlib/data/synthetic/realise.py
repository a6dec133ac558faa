"""Realisers: a :class:`~signlib.data.synthetic.templates.Frame` said in English, German or Chinese.

Each realiser turns a frame into *pieces* ``(surface, concept key or None)``; ``None`` marks a
function word (article, copula, preposition, auxiliary, particle) that has no sign. Synonyms are
drawn from the seeded generator, so the order of draws below is part of the output: one rng state
must keep giving the same text.
"""

from __future__ import annotations

import numpy as np

from signlib.data.synthetic.templates import (BARE, COUNTABLE, FUTURE, GENDER_DE, MASS, SUBJECT_PRONOUNS, WEAK_DE,
                                              WEEKDAYS, Frame, Piece, english_third_person, german_present)

_PERSON = {"i": 0, "you": 1, "we": 3, "they": 4}  # everything else (names, nouns, "who") is 3rd singular


class _Words:
    """Surface-form chooser for one sentence: a random synonym, or the canonical form where grammar needs it."""

    def __init__(self, lexicon, spoken: str, rng: np.random.Generator):
        self.lexicon, self.spoken, self.rng = lexicon, spoken, rng

    def any(self, key: str) -> str:
        forms = self.lexicon[key].words[self.spoken]
        return forms[int(self.rng.integers(len(forms)))]

    def canon(self, key: str) -> str:
        return self.lexicon[key].words[self.spoken][0]

    def proper(self, key: str) -> bool:
        # Names and cities are the names and places capitalised in English: no article in any language.
        concept = self.lexicon[key]
        return concept.pos in ("name", "place") and concept.words["en"][0][0].isupper()


def _fn(*words: str) -> list[Piece]:
    return [(w, None) for w in words]


def realise_en(frame: Frame, lexicon, rng: np.random.Generator) -> list[Piece]:
    """English text: do-support, 3rd-person -s, ``will`` with future time adverbs, a/an/the."""
    f, w = frame, _Words(lexicon, "en", rng)

    def np_(key: str | None, definite: bool, article: bool = True) -> list[Piece]:
        if key is None:
            return []
        word = w.canon(key) if key in SUBJECT_PRONOUNS else w.any(key)
        if not article or w.proper(key) or key in BARE or lexicon[key].pos == "pron":
            return [(word, key)]
        if definite:
            return [("the", None), (word, key)]
        return [(word, key)] if key in MASS else [("an" if word[0] in "aeiou" else "a", None), (word, key)]

    def place(prep: str, key: str | None) -> list[Piece]:
        return [] if key is None else [(prep, None)] + np_(key, True)

    if f.possessor:  # "my dog": the possessive replaces the article
        subj = [(w.canon(f.possessor), f.possessor)] + np_(f.subject, True, False)
    else:
        subj = np_(f.subject, True)
    third = f.subject not in _PERSON or f.possessor is not None
    future = f.time in FUTURE
    if f.verb is None:  # copula: the adjective is the predicate
        be = "am" if f.subject == "i" else "is" if third else "are"
        aux, main, plain = ("will", None), [("be", None)] if future else [], [(be, None)]
    else:
        form = w.canon(f.verb) if f.kind == "count" else w.any(f.verb)
        aux = ("will", None) if future else ("does" if third else "do", None)
        main, plain = [(form, f.verb)], [(english_third_person(form) if third else form, f.verb)]
    finite = [aux] + main if future else plain
    if f.kind == "count":
        plural = COUNTABLE[f.obj].split()[0]
        obj = [(w.canon(f.number), f.number), (plural, f.obj)]
    elif f.neg == "no":
        obj = [("no", "no")] + np_(f.obj, False, False)
    else:
        obj = np_(f.obj, f.definite)
    rest = obj + place("to", f.dest) + place("in", f.loc) + ([(w.any(f.adj), f.adj)] if f.adj else [])
    time = []
    if f.time:
        prep = {"morning": "in the", "afternoon": "in the", "evening": "in the", "night": "at",
                "weekend": "at the"}.get(f.time, "on" if f.time in WEEKDAYS else "")
        time = _fn(*prep.split()) + [(w.any(f.time), f.time)]
    if f.mood in ("statement", "neg"):  # "has no car" is negated by its object, not by "not"
        negated = [aux, ("not", "not")] + main if (future or f.verb) else plain + [("not", "not")]
        body = subj + (negated if f.neg == "not" else finite) + rest
        return (time + _fn(",") + body if f.front and time else body + time) + _fn(".")
    question = ([aux] + subj + main if (future or f.verb) else plain + subj) + rest + time + _fn("?")
    if f.mood == "ynq":
        return question
    wh = [(w.canon(f.wh), f.wh)]
    if f.wh == "who":  # the wh-word is the subject: no inversion, 3rd person singular
        return wh + finite + rest + time + _fn("?")
    return wh + question


def realise_de(frame: Frame, lexicon, rng: np.random.Generator) -> list[Piece]:
    """German text: verb second (verb first in yes/no questions), articles by gender and case, nicht/kein."""
    f, w = frame, _Words(lexicon, "de", rng)
    person = 2 if f.possessor else _PERSON.get(f.subject, 2)

    def np_(key: str | None, case: str, definite: bool) -> list[Piece]:
        if key is None:
            return []
        word = w.canon(key) if lexicon[key].pos == "pron" else w.any(key)
        if w.proper(key) or key in BARE or lexicon[key].pos == "pron":
            return [(word, key)]
        g = GENDER_DE[word]
        if case == "acc":
            word = WEAK_DE.get(word, word)
        if f.neg == "no" and case == "acc":  # kein: the negation is the article
            return [({"m": "keinen", "f": "keine", "n": "kein"}[g], "no"), (word, key)]
        if not definite and key in MASS:
            return [(word, key)]
        table = {"nom": ("der die das", "ein eine ein"), "acc": ("den die das", "einen eine ein")}[case]
        return [(table[0 if definite else 1].split()["mfn".index(g)], None), (word, key)]

    def place(key: str | None, motion: bool) -> list[Piece]:
        if key is None:
            return []
        word = w.any(key)
        if w.proper(key):
            return [("nach" if motion else "in", None), (word, key)]
        g = GENDER_DE[word]
        prep = ("zur" if g == "f" else "zum") if motion else ("in der" if g == "f" else "im")
        return _fn(*prep.split()) + [(word, key)]

    if f.possessor:  # mein Hund, meine Katze, mein Auto (nominative)
        noun = w.any(f.subject)
        ending = "e" if GENDER_DE[noun] == "f" else ""
        subj = [(w.canon(f.possessor) + ending, f.possessor), (noun, f.subject)]
    else:
        subj = np_(f.subject, "nom", True)
    if f.verb is None:
        fin = [(("bin", "bist", "ist", "sind", "sind")[person], None)]
    else:
        form = w.canon(f.verb) if f.kind == "count" else w.any(f.verb)
        fin = [(german_present(form)[person], f.verb)]
    obj = [(w.canon(f.number), f.number), (COUNTABLE[f.obj].split()[1], f.obj)] if f.kind == "count" \
        else np_(f.obj, "acc", f.definite or f.mood == "neg")
    time = []
    if f.time:
        time = _fn("am") * (f.time in WEEKDAYS or f.time == "weekend") + [(w.any(f.time), f.time)]
    nicht = [("nicht", "not")] if f.neg == "not" else []
    tail = place(f.loc, False) + obj + nicht + place(f.dest, True) + ([(w.any(f.adj), f.adj)] if f.adj else [])
    end = _fn("?") if f.mood in ("ynq", "wh") else _fn(".")
    if f.mood == "ynq":
        return fin + subj + time + tail + end
    if f.mood == "wh":
        word = ("wohin" if f.kind == "motion" else "wo") if f.wh == "where" else w.any(f.wh)
        return [(word, f.wh)] + fin + subj + time + tail + end
    if f.front and time:
        return time + fin + subj + tail + end
    return subj + fin + time + tail + end


def realise_zh(frame: Frame, lexicon, rng: np.random.Generator) -> list[Piece]:
    """Chinese text: no articles or inflection; 很 before predicate adjectives, 在 for places, 吗 in questions."""
    f, w = frame, _Words(lexicon, "zh", rng)
    subj = ([(w.canon(f.possessor), f.possessor)] if f.possessor else []) + ([(w.any(f.subject), f.subject)]
                                                                               if f.subject else [])
    wh = [(w.any(f.wh), f.wh)] if f.wh else []
    time = [(w.any(f.time), f.time)] if f.time else (wh if f.wh == "when" else [])
    subj = subj or (wh if f.wh == "who" else [])
    adverb = wh if f.wh in ("why", "how") else []
    neg = [("不", "not")] if f.neg == "not" else []
    asks_where = f.wh == "where" and f.kind != "motion"
    loc = _fn("在") + ([(w.any(f.loc), f.loc)] if f.loc else wh) if (f.loc or asks_where) else []
    verb = [(w.canon(f.verb) if f.kind in ("motion", "count") else w.any(f.verb), f.verb)] if f.verb else []
    obj = [(w.any(f.obj), f.obj)] if f.obj else (wh if f.wh == "what" else [])
    if f.kind == "motion":
        dest = [(w.any(f.dest), f.dest)] if f.dest else wh
        # 去/来 + place, but 飞到/跑到 + place and 到 + place + 旅行
        if f.verb == "travel":
            pred = _fn("到") + dest + verb
        else:
            pred = verb + (_fn("到") if f.verb in ("fly", "run") else []) + dest
    elif f.kind == "count":
        pred = verb + [(w.canon(f.number), f.number)] + _fn(COUNTABLE[f.obj].split()[2]) + [(w.canon(f.obj), f.obj)]
    elif f.adj:
        pred = _fn("很") * (f.mood in ("statement", "wh")) + [(w.any(f.adj), f.adj)]
    else:
        pred = ([("没", "no")] if f.neg == "no" else []) + verb + obj
    head = time + subj if f.front and f.time else subj + time
    body = head + adverb + neg + loc + pred
    return body + (_fn("吗", "？") if f.mood == "ynq" else _fn("？") if f.mood == "wh" else _fn("。"))


REALISERS = {"en": realise_en, "de": realise_de, "zh": realise_zh}
