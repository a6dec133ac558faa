"""Sentence frames and the word-class data their realisation needs (DESIGN §3).

A :class:`Frame` is the language-independent meaning of one sentence: which concepts fill which
roles (subject, verb, object, place, time ...) and its mood (statement, negation, yes/no or
wh-question). :func:`signlib.data.synthetic.grammar.build_frame` draws one from a seeded generator;
a realiser in :mod:`signlib.data.synthetic.realise` turns it into *pieces* ``(surface, concept key or
None)`` where ``None`` marks a function word (article, copula, preposition, auxiliary, particle)
that has no sign. Sign order is the sign language's business and lives in
:mod:`signlib.data.synthetic.grammar`.

The tables below carry what the vocabulary's five columns cannot: which nouns a verb or adjective
goes with (so sentences make sense), German genders and the few inflections the templates need.
"""

from __future__ import annotations

from dataclasses import dataclass


Piece = tuple[str, str | None]  # (surface form, concept key; None = function word, no sign)

# --- semantic tables (by concept key); "agent" = subject pronouns + names + person nouns ---------------
CLASSES = {
    "person": "man woman child boy girl teacher doctor student friend mother father brother sister baby "
              "grandmother grandfather neighbour chef farmer",
    "animal": "dog cat horse bird fish cow pig sheep chicken rabbit mouse elephant lion bear monkey duck tiger snake",
    "food": "apple banana orange bread rice cake egg cheese meat soup pizza salad potato tomato carrot chocolate "
            "cookie sugar sandwich pear grape strawberry lemon ice_cream butter honey",
    "drink": "water milk tea coffee juice beer wine lemonade cola",
    "thing": "book pen pencil paper table chair bed door window computer phone key bag box ball cup bottle clock "
             "picture lamp television radio guitar piano flower tree money ticket gift map toy umbrella camera",
    "building": "house apartment room",
    "vehicle": "car bicycle bus train plane boat taxi",
    "clothes": "shirt shoe hat coat dress jacket sock sweater",
    "text": "letter newspaper magazine story email poem",
    "media": "film music song game",
    "language": "english german chinese french spanish sign_language",
    "sport": "football tennis basketball chess yoga",
}
SUBJECT_PRONOUNS = ("i", "you", "he", "she", "we", "they")
POSSESSIVES = ("my", "your", "his", "her", "our")
MASS = frozenset("bread rice cheese meat soup chocolate sugar butter honey water milk tea coffee juice beer wine "
                 "lemonade cola paper money music".split())
BARE = frozenset(CLASSES["language"].split() + CLASSES["sport"].split())  # never take an article
TRANSITIVE = {  # verb -> what its object may be (classes or single keys)
    "eat": "food", "drink": "drink", "cook": "food", "buy": "food drink thing vehicle clothes text building",
    "sell": "thing vehicle clothes building", "want": "food drink thing vehicle clothes animal",
    "like": "food drink animal media sport city person", "love": "person animal city music",
    "hate": "food drink media sport", "see": "person animal thing vehicle building site",
    "watch": "film game sport animal", "read": "text book map", "write": "letter story email poem song",
    "open": "door window box bag book bottle umbrella letter email", "close": "door window box bag book umbrella",
    "find": "thing animal clothes", "lose": "thing clothes", "need": "thing food drink vehicle clothes",
    "use": "thing vehicle", "repair": "door window computer phone clock lamp television radio camera bed table "
    "chair toy umbrella vehicle", "clean": "table chair bed window door car bicycle cup bottle building",
    "wash": "clothes vehicle animal cup bottle", "make": "cake soup pizza salad sandwich tea coffee toy",
    "wear": "clothes", "feed": "animal baby", "draw": "animal thing building vehicle", "learn": "language sport",
    "speak": "language", "understand": "language person", "know": "person city", "ask": "person",
    "teach": "student child boy girl", "visit": "person", "meet": "person", "hug": "person dog cat",
    "throw": "ball toy key", "steal": "thing vehicle", "cut": "food", "bring": "thing food drink",
    "take": "thing", "send": "letter email gift picture", "hear": "music song story",
    "photograph": "person animal city site flower tree building", "forget": "thing person story",
}
STATIVE = frozenset("know understand love like hate want need".split())  # no "in the park" with these
HAVE_OBJECTS = "thing vehicle animal clothes building food"
INTRANSITIVE = {v: "agent animal" for v in "sleep run swim play sit jump".split()}
INTRANSITIVE |= {v: "agent" for v in "dance sing laugh cry work wait fall shout pray hike".split()}
MOTION = {"go": "city site", "come": "city site", "fly": "city", "travel": "city", "run": "site"}
_LOOKS = "agent animal thing building site city clothes"
ADJECTIVES = {
    **{a: "animal thing vehicle building site city clothes" for a in ("big", "small")},
    "new": "thing vehicle building clothes site", "old": "agent animal thing vehicle building site city",
    "good": "food drink media thing", "bad": "food drink media", "beautiful": _LOOKS, "ugly": _LOOKS,
    "expensive": "food drink thing vehicle clothes building city", "cheap": "food drink thing vehicle clothes",
    "hot": "food drink", "cold": "food drink", "long": "text media", "short": "text media",
    "dirty": "thing vehicle clothes building animal", "heavy": "thing animal", "delicious": "food drink",
    "sweet": "food drink", "fresh": "food drink", "fast": "agent animal vehicle", "slow": "agent animal vehicle",
    "busy": "agent", "friendly": "agent", "funny": "agent media", "loud": "agent animal site media",
    "quiet": "agent animal site", **{a: "thing vehicle clothes food" for a in "red green yellow".split()},
    **{a: "thing vehicle clothes animal" for a in "blue black white".split()},
    **{a: "agent animal" for a in "young happy sad tired hungry thirsty angry strong weak lazy clever".split()},
}
POSSESSABLE = ("person", "animal", "thing", "vehicle", "clothes", "building", "food", "drink")
FUTURE = frozenset({"tomorrow", "tonight", "later", "soon"})  # English uses "will" with these
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
COUNTABLE = {  # key -> English plural, German plural, Chinese measure word (all of the canonical form)
    "dog": "dogs Hunde 只", "cat": "cats Katzen 只", "horse": "horses Pferde 匹", "bird": "birds Vögel 只",
    "fish": "fish Fische 条", "pig": "pigs Schweine 头", "sheep": "sheep Schafe 只",
    "rabbit": "rabbits Kaninchen 只",
    "mouse": "mice Mäuse 只", "apple": "apples Äpfel 个", "banana": "bananas Bananen 根", "egg": "eggs Eier 个",
    "orange": "oranges Orangen 个", "potato": "potatoes Kartoffeln 个", "tomato": "tomatoes Tomaten 个",
    "cookie": "cookies Kekse 块", "book": "books Bücher 本", "pen": "pens Stifte 支", "chair": "chairs Stühle 把",
    "key": "keys Schlüssel 把", "ball": "balls Bälle 个", "cup": "cups Tassen 个",
    "bottle": "bottles Flaschen 个",
    "ticket": "tickets Tickets 张", "car": "cars Autos 辆", "bicycle": "bicycles Fahrräder 辆",
    "child": "children Kinder 个", "brother": "brothers Brüder 个", "sister": "sisters Schwestern 个",
    "friend": "friends Freunde 个", "flower": "flowers Blumen 朵", "tree": "trees Bäume 棵",
}
# German grammatical gender of every noun and common-place surface form (proper places have none).
GENDER_DE = {w: g for g, words in {
    "m": "Mann Junge Lehrer Arzt Doktor Student Schüler Freund Vater Papa Bruder Opa Großvater Nachbar Koch Bauer "
         "Hund Vogel Fisch Hase Elefant Löwe Bär Affe Tiger Apfel Reis Kuchen Käse Salat Keks Zucker Honig Tee "
         "Kaffee Saft Wein Stift Kuli Bleistift Tisch Stuhl Computer Rechner Schlüssel Ball Fernseher Baum "
         "Regenschirm Schirm Fotoapparat Raum Wagen Bus Zug Schuh Hut Mantel Pullover Pulli Brief Film Song "
         "Fußball Basketball Park Laden Supermarkt Bahnhof Flughafen Garten Zoo",
    "f": "Frau Mutter Mama Schwester Oma Großmutter Katze Kuh Maus Ente Schlange Banane Orange Apfelsine Torte "
         "Suppe Pizza Kartoffel Tomate Karotte Möhre Schokolade Birne Traube Erdbeere Zitrone Butter Milch "
         "Limonade Cola Tür Tasche Kiste Schachtel Tasse Flasche Uhr Lampe Gitarre Blume Fahrkarte Karte "
         "Landkarte Kamera Wohnung Jacke Mütze Socke Zeitung Zeitschrift Geschichte E-Mail Musik "
         "Gebärdensprache Schule Klinik Bibliothek Bücherei Gaststätte Bank Kirche Küche Universität Uni",
    "n": "Kind Mädchen Baby Pferd Schwein Schaf Huhn Kaninchen Brot Ei Fleisch Sandwich Butterbrot Eis Wasser "
         "Bier Buch Papier Bett Fenster Telefon Handy Bild Foto Radio Klavier Geld Ticket Geschenk Spielzeug "
         "Haus Heim Zimmer Auto Fahrrad Rad Flugzeug Boot Schiff Taxi Hemd Kleid Magazin Gedicht Lied Spiel "
         "Englisch Deutsch Chinesisch Französisch Spanisch Tennis Schach Yoga Krankenhaus Restaurant Geschäft "
         "Büro Museum Kino Hotel Café",
}.items() for w in words.split()}
# Weak masculine nouns take -(e)n outside the nominative (den Hasen, einen Studenten).
WEAK_DE = {"Junge": "Jungen", "Hase": "Hasen", "Löwe": "Löwen", "Affe": "Affen", "Elefant": "Elefanten",
           "Student": "Studenten", "Bär": "Bären", "Nachbar": "Nachbarn", "Bauer": "Bauern"}
# German present tense ich, du, er/sie, wir, sie (plural) of the stem-changing and irregular verbs used.
IRREGULAR_DE = {v.split()[0]: tuple(v.split()[1:]) for v in (
    "essen esse isst isst essen essen", "sehen sehe siehst sieht sehen sehen", "lesen lese liest liest lesen lesen",
    "sprechen spreche sprichst spricht sprechen sprechen", "nehmen nehme nimmst nimmt nehmen nehmen",
    "schlafen schlafe schläfst schläft schlafen schlafen", "laufen laufe läufst läuft laufen laufen",
    "tragen trage trägst trägt tragen tragen", "treffen treffe triffst trifft treffen treffen",
    "vergessen vergesse vergisst vergisst vergessen vergessen", "waschen wasche wäschst wäscht waschen waschen",
    "werfen werfe wirfst wirft werfen werfen", "stehlen stehle stiehlst stiehlt stehlen stehlen",
    "fallen falle fällst fällt fallen fallen", "haben habe hast hat haben haben",
    "mögen mag magst mag mögen mögen",
    "wollen will willst will wollen wollen", "möchten möchte möchtest möchte möchten möchten")}


def english_third_person(verb: str) -> str:
    """``eat`` → ``eats``, ``watch`` → ``watches``, ``fly`` → ``flies``, ``have`` → ``has``."""
    if verb == "have":
        return "has"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def german_present(verb: str) -> tuple[str, ...]:
    """Present tense (ich, du, er, wir, sie) of a German infinitive: regular rules plus a small table."""
    if verb in IRREGULAR_DE:
        return IRREGULAR_DE[verb]
    if verb.endswith(("ern", "eln")):  # wandern: ich wandere, du wanderst, er wandert
        stem = verb[:-1]
        return stem + "e", stem + "st", stem + "t", verb, verb
    stem = verb[:-2]
    # An e is inserted after -d/-t and after a consonant + m/n (arbeitest, öffnet, zeichnet; not lernst).
    prev = stem[-2] if len(stem) > 1 else ""
    e = stem.endswith(("d", "t")) or (stem[-1] in "mn" and prev not in "aeiouäöülrmnh") or stem.endswith("chn")
    du = stem + "t" if stem.endswith(("s", "ß", "x", "z")) else stem + ("est" if e else "st")
    return stem + "e", du, stem + ("et" if e else "t"), verb, verb


def inflections(key: str, pos: str, words: tuple[str, ...], spoken: str) -> set[str]:
    """Every surface form the realisers can write for one concept (the words plus their inflections)."""
    forms = set(words)
    if pos == "verb":
        forms |= {f for w in words for f in ((english_third_person(w),) if spoken == "en" else
                                               german_present(w) if spoken == "de" else ())}
    if key in COUNTABLE and spoken != "zh":
        forms.add(COUNTABLE[key].split()[0 if spoken == "en" else 1])
    if spoken == "de":
        forms |= {WEAK_DE[w] for w in words if w in WEAK_DE}
    if spoken == "de" and (key in POSSESSIVES or key == "no"):
        forms |= {w + "e" for w in words} | ({"keinen"} if key == "no" else set())
    return forms


@dataclass(frozen=True)
class Frame:
    """What one sentence says: concept keys by role (``None`` = absent) and how it is said."""

    kind: str                      # trans | intrans | motion | adj | have | count | poss
    mood: str                      # statement | neg | ynq | wh
    subject: str | None = None     # None when the wh-word asks for it ("who")
    verb: str | None = None
    obj: str | None = None
    adj: str | None = None
    loc: str | None = None         # where it happens (trans, intrans)
    dest: str | None = None        # where to (motion)
    time: str | None = None
    number: str | None = None
    possessor: str | None = None
    neg: str | None = None         # "not", or "no" with have
    wh: str | None = None
    topic: bool = False            # ASL/BSL signers front the object
    definite: bool = False         # definite object article in the text
    front: bool = False            # the text puts the time adverb first

    def roles(self) -> dict[str, str]:
        """Role letter → concept key, for the roles present (WH excluded: it always goes last)."""
        named = {"T": self.time, "L": self.loc, "POSS": self.possessor, "S": self.subject, "NEG": self.neg,
                 "V": self.verb, "O": self.obj, "NUM": self.number, "D": self.dest, "A": self.adj}
        return {r: k for r, k in named.items() if k is not None}

    @property
    def size(self) -> int:
        return len(self.roles()) + (self.wh is not None)
