"""Privacy-preserving record linkage (PPRL): linking persons across borders without a name
crossing a border (issue 19). docs/pprl.md explains it for partners and administrators.

Each node encodes its own records (`encode`) with a secret its partners agreed with it out of
band, and sends only opaque record ids and bit strings. A linkage host (any node, or a third
party) compares the encodings of every pair of partners (`link_encodings`) and answers each
with a group id per record: one id shared across partners for one person, new on every run.

An encoding is a record-level Bloom filter (a CLK, Schnell et al.) hardened by a keyed
linear diffusion layer (Armknecht, Heng, Schnell, PoPETs 2023):

1. every identifier is normalised as the clear-text linkage does it (`IdentityNormaliser`:
   each name transliterated by the scheme of its language, its sound keys kept), so that
   Олександр and Oleksandr give the same features;
2. the features (bigrams of the names' sound keys, the birth date whole and by its parts, sex,
   citizenship, place of birth, document number) are hashed with keyed BLAKE2b, each into
   `bits_per_feature` positions of a filter of `filter_bits` bits (random hashing: double
   hashing has a linear structure that has been attacked, Niedermeyer et al. 2014);
3. every bit of the filter sent is the XOR of `diffusion_taps` bits of that filter, chosen
   by the secret: a bit no longer belongs to one feature, and every bit is set in about half
   of the records, so frequent bigrams leave no frequent bits to align with names.

The Dice coefficient of two diffused filters falls as their inner filters differ, so
records of one person still score high. The host compares every record of one partner with
every record of another (`pprl_kernel.dice_scores`, compiled with numba), keeps the best
pairs one to one for each pair of partners, and joins them into groups.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import combinations

import numpy as np

from opennrm.linkage.normalise import IdentityNormaliser, UnreadableRecord
from opennrm.linkage.pprl_kernel import compiled, dice_scores
from opennrm.linkage.register import Unreadable

__all__ = ["DEFAULT_PARAMETERS", "EncodingParameters", "Encodings", "LinkResult", "PPRLError",
           "compiled",
           "dice_scores", "encode", "link_encodings"]


class PPRLError(ValueError):
    """Encodings, parameters or a payload that cannot be used; the message says why."""


# --- parameters ----------------------------------------------------------------------------

@dataclass(frozen=True)
class EncodingParameters:
    """What partners agree on beside the secret: change any value and raise `version`, or
    the encodings of two partners no longer meet. Never secret: it travels with the
    encodings' version."""

    version: str = "opennrm-pprl-2"
    # The inner Bloom filter, and the diffused filter sent (a multiple of 64), of one width:
    # a wider filter sent than the inner one would be a redundant linear code, whose parity
    # checks an attacker could read off the encodings and work back towards the taps. 2,048
    # bits rather than 1,024: the Dice coefficient of random pairs scatters less around one
    # half (its spread falls with the square root of the width), so the threshold can sit
    # lower and keep the persons whose records differ in a name or a missing field.
    filter_bits: int = 2048
    output_bits: int = 2048
    diffusion_taps: int = 6  # inner bits XORed into each bit sent
    qgram: int = 2
    # How many positions each feature of a field sets: the weight of the field in the Dice
    # coefficient. The given name (its q-grams and, whole, its sound keys) weighs more than
    # the family name: it is what tells twins and siblings apart. The birth date counts
    # whole as well as by its parts: namesakes born on other days share the name's bits,
    # and only a date that disagrees as a whole keeps them apart.
    bits_per_feature: Mapping[str, int] = field(default_factory=lambda: {
        "given_name": 32, "given_name_key": 48, "family_name": 28, "birth_date": 64,
        "birth_year": 64, "birth_month": 28, "birth_day": 28, "birth_day_month": 28, "sex": 20,
        "citizenship": 12, "place_of_birth": 20, "document_number": 48})
    # The Dice coefficient from which two records are one person: the best F1 at 20,000
    # records a side (docs/pprl.md). Fewer records leave fewer random pairs above it, and a
    # lower one would do there; a higher one, for registers of millions.
    threshold: float = 0.59

    def __post_init__(self):
        problems = []
        if not self.version or not isinstance(self.version, str):
            problems.append("version must be a non-empty string")
        if not 64 <= self.filter_bits <= 65536:
            problems.append("filter_bits must be between 64 and 65,536")
        if self.output_bits % 64 or not 64 <= self.output_bits <= 65536:
            problems.append("output_bits must be a multiple of 64 between 64 and 65,536")
        if not 1 <= self.diffusion_taps <= min(16, self.filter_bits):
            problems.append("diffusion_taps must be between 1 and 16")
        if not 1 <= self.qgram <= 4:
            problems.append("qgram must be between 1 and 4")
        unknown = set(self.bits_per_feature) - set(FEATURES)
        if unknown:
            problems.append(f"unknown features in bits_per_feature: {', '.join(sorted(unknown))}")
        if any(not 0 <= bits <= 64 for bits in self.bits_per_feature.values()):
            problems.append("bits_per_feature values must be between 0 and 64")
        if not 0 < self.threshold < 1:
            problems.append("threshold must be between 0 and 1")
        if problems:
            raise PPRLError("encoding parameters: " + "; ".join(problems))
        object.__setattr__(self, "bits_per_feature", dict(self.bits_per_feature))

    @property
    def words(self) -> int:
        return self.output_bits // 64

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "EncodingParameters":
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise PPRLError(f"encoding parameters: unknown keys {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as error:
            raise PPRLError(f"encoding parameters: {error}") from None

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)


FEATURES = ("given_name", "given_name_key", "family_name", "birth_date", "birth_year",
            "birth_month", "birth_day", "birth_day_month", "sex", "citizenship", "place_of_birth",
            "document_number")
DEFAULT_PARAMETERS = EncodingParameters()


# --- encodings and their payload -----------------------------------------------------------

@dataclass
class Encodings:
    """A node's encoded records: its own opaque ids (never names) and the hardened filters,
    one row of 64-bit words per record. `block_keys` is None: the host derives its blocks
    from the filters themselves."""

    record_ids: list[str]
    filters: np.ndarray
    parameters_version: str
    block_keys: None = None

    def __post_init__(self):
        self.filters = np.ascontiguousarray(self.filters, dtype=np.uint64)
        if self.filters.ndim != 2:
            raise PPRLError("filters must be a table of one row per record")
        if len(self.record_ids) != self.filters.shape[0]:
            raise PPRLError(f"{len(self.record_ids)} record ids for "
                            f"{self.filters.shape[0]} filters")
        if len(set(self.record_ids)) != len(self.record_ids):
            raise PPRLError("a record id appears more than once")

    def __len__(self) -> int:
        return len(self.record_ids)

    @property
    def filter_bits(self) -> int:
        return self.filters.shape[1] * 64

    def to_payload(self) -> dict:
        """A JSON-safe message: the parameters' version, the record ids, the filter width
        and the filters as base64 of their little-endian bytes. Nothing else."""
        return {"parameters_version": self.parameters_version,
                "record_ids": list(self.record_ids),
                "filter_bits": self.filter_bits,
                "filters": base64.b64encode(self.filters.astype("<u8").tobytes()).decode()}

    @classmethod
    def from_payload(cls, payload: Mapping) -> "Encodings":
        """The encodings of a payload; `PPRLError` naming what is wrong with a bad one."""
        if not isinstance(payload, Mapping):
            raise PPRLError("the payload is not an object")
        expected = {"parameters_version", "record_ids", "filter_bits", "filters"}
        missing, unknown = expected - set(payload), set(payload) - expected - {"block_keys"}
        if missing or unknown:
            raise PPRLError("the payload " + "; ".join(
                part for part in (missing and f"lacks {', '.join(sorted(missing))}",
                                  unknown and f"has unknown keys {', '.join(sorted(unknown))}")
                if part))
        version, ids, bits = (payload["parameters_version"], payload["record_ids"],
                              payload["filter_bits"])
        if not isinstance(version, str) or not version:
            raise PPRLError("parameters_version must be a non-empty string")
        if not isinstance(ids, list) or not all(isinstance(one, str) and one for one in ids):
            raise PPRLError("record_ids must be a list of non-empty strings")
        if not isinstance(bits, int) or isinstance(bits, bool) or bits <= 0 or bits % 64:
            raise PPRLError(f"filter_bits must be a positive multiple of 64, not {bits!r}")
        if payload.get("block_keys") is not None:
            raise PPRLError("block_keys must be empty: blocks come from the filters")
        try:
            raw = base64.b64decode(payload["filters"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise PPRLError("filters is not base64") from None
        if len(raw) != len(ids) * bits // 8:
            raise PPRLError(f"filters holds {len(raw)} bytes; {len(ids)} records of "
                            f"{bits} bits need {len(ids) * bits // 8}")
        filters = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(len(ids), bits // 64)
        return cls(list(ids), filters, version)

    def chunks(self, size: int) -> list["Encodings"]:
        """The encodings in parts of at most `size` records, to send in several messages."""
        if size < 1:
            raise PPRLError("a chunk holds at least one record")
        return [Encodings(self.record_ids[start:start + size],
                          self.filters[start:start + size], self.parameters_version)
                for start in range(0, max(len(self), 1), size)]

    @classmethod
    def join(cls, parts: Sequence["Encodings"]) -> "Encodings":
        """The encodings the parts of `chunks` came from."""
        if not parts:
            raise PPRLError("no parts to join")
        versions = {part.parameters_version for part in parts}
        widths = {part.filters.shape[1] for part in parts}
        if len(versions) > 1 or len(widths) > 1:
            raise PPRLError("the parts have different parameters or filter widths")
        return cls([one for part in parts for one in part.record_ids],
                   np.concatenate([part.filters for part in parts]), versions.pop())


# --- encoding ------------------------------------------------------------------------------

def _subkey(secret: bytes, purpose: str, parameters: EncodingParameters) -> bytes:
    """A key for one use, derived from the partners' secret (HMAC-SHA256), so that the
    feature hashes and the diffusion layer never share a key."""
    return hmac.new(secret, f"opennrm-pprl/{purpose}/{parameters.version}".encode(),
                    hashlib.sha256).digest()


def _qgrams(key: str, q: int) -> set[str]:
    padded = f"_{key}_"
    return {padded[start:start + q] for start in range(max(1, len(padded) - q + 1))}


def features(row: Mapping, q: int = 2) -> list[tuple[str, str]]:
    """The (field, value) features of one normalised record (`IdentityNormaliser`'s
    columns). Names give the q-grams of every sound key, so that spellings of one name by
    different schemes share their q-grams; a swapped day and month still share
    `birth_day_month`."""
    found: list[tuple[str, str]] = []
    for name, prefix in (("given_name", "given"), ("family_name", "family")):
        grams = set().union(*(_qgrams(key, q) for key in row[f"{prefix}_keys"] or ()))
        found.extend((name, gram) for gram in sorted(grams))
    # The given name whole as well: a short one (Ion) has few q-grams, yet a different given
    # name is what tells twins and siblings apart.
    found.extend(("given_name_key", key) for key in row["given_keys"] or ())
    if row["birth_year"] is not None:
        found.append(("birth_year", str(row["birth_year"])))
    if row["birth_month"] is not None:
        found.append(("birth_month", str(row["birth_month"])))
    if row["birth_day"] is not None:
        found.append(("birth_day", str(row["birth_day"])))
        low, high = sorted((row["birth_month"], row["birth_day"]))
        found.append(("birth_day_month", f"{low}-{high}"))
        # The whole date: two dates that differ as a whole lose these positions too, so that
        # a namesake born on another day scores below a record with a typo in one part.
        found.append(("birth_date", f"{row['birth_year']}-{row['birth_month']}-{row['birth_day']}"))
    for name in ("sex", "citizenship", "document_number"):
        if row[name]:
            found.append((name, row[name]))
    if row["place_key"]:
        found.append(("place_of_birth", row["place_key"]))
    return found


class _FeatureHasher:
    """The filter positions of a feature: keyed BLAKE2b of the field and value, read as
    independent positions (random hashing). Each distinct feature is hashed once a run."""

    def __init__(self, key: bytes, parameters: EncodingParameters):
        self.key = key[:64]
        self.bits = parameters.filter_bits
        self.counts = parameters.bits_per_feature
        self.cache: dict[tuple[str, str], np.ndarray] = {}

    def __call__(self, name: str, value: str) -> np.ndarray:
        try:
            return self.cache[(name, value)]
        except KeyError:
            pass
        count = self.counts.get(name, 0)
        digest = b""
        block = 0
        while len(digest) < 4 * count:
            digest += hashlib.blake2b(f"{name}\x1f{value}\x1f{block}".encode(), key=self.key,
                                      digest_size=64).digest()
            block += 1
        words = np.frombuffer(digest[:4 * count], dtype="<u4")
        positions = self.cache[(name, value)] = (words % self.bits).astype(np.int64)
        return positions


def diffusion_taps(secret: bytes, parameters: EncodingParameters = DEFAULT_PARAMETERS
                   ) -> np.ndarray:
    """For each bit sent, the inner bits XORed into it: drawn from a generator seeded by a
    key derived from the secret, so the host cannot undo the layer."""
    seed = int.from_bytes(_subkey(secret, "diffusion", parameters), "big")
    generator = np.random.Generator(np.random.PCG64(seed))
    return np.stack([generator.choice(parameters.filter_bits, parameters.diffusion_taps,
                                      replace=False)
                     for _ in range(parameters.output_bits)])


def inner_filters(rows: Sequence[Mapping], secret: bytes,
                  parameters: EncodingParameters = DEFAULT_PARAMETERS) -> np.ndarray:
    """The unhardened Bloom filters (CLKs) of normalised records, one row of booleans each:
    never sent; exposed for the attack tests, which show what the diffusion layer adds."""
    hasher = _FeatureHasher(_subkey(secret, "features", parameters), parameters)
    bits = np.zeros((len(rows), parameters.filter_bits), dtype=bool)
    for number, row in enumerate(rows):
        found = [hasher(name, value) for name, value in features(row, parameters.qgram)]
        if found:
            bits[number, np.concatenate(found)] = True
    return bits


def diffuse(bits: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """The filters sent: each bit the XOR of its taps' inner bits, packed into uint64."""
    out = np.bitwise_xor.reduce(bits[:, taps], axis=2)
    packed = np.ascontiguousarray(np.packbits(out, axis=1, bitorder="little"))
    return packed.view("<u8").astype(np.uint64)


def normalise_records(records: Iterable[Mapping[str, str]], today: date | None = None,
                      source: str = "") -> tuple[list[str], list[dict], list[Unreadable]]:
    """The ids and normalised rows of the readable records, and the unreadable ones with
    the reason (a missing or repeated id, no name, a value that cannot be read)."""
    normalise = IdentityNormaliser(today)
    ids, rows, unreadable = [], [], []
    seen: set[str] = set()
    for index, record in enumerate(records):
        line = record.get("line") or index + 1
        record_id = str(record.get("record_id") or "").strip()
        if not record_id:
            unreadable.append(Unreadable(source, line, "", "no record id"))
            continue
        if record_id in seen:
            unreadable.append(Unreadable(source, line, record_id,
                                         "the record id is used by an earlier record"))
            continue
        seen.add(record_id)
        try:
            rows.append(normalise(record))
        except UnreadableRecord as error:
            unreadable.append(Unreadable(source, line, record_id, str(error)))
            continue
        ids.append(record_id)
    return ids, rows, unreadable


def encode(records: Iterable[Mapping[str, str]], secret: bytes,
           parameters: EncodingParameters = DEFAULT_PARAMETERS, today: date | None = None
           ) -> tuple[Encodings, list[Unreadable]]:
    """The hardened encodings of a register's records (mappings of `record_id` and the raw
    fields of `normalise.FIELDS`, in any script), and the records that could not be read,
    with the reason: they are reported, never silently dropped. `secret`: the key the
    partners agreed out of band (at least 16 bytes); it never leaves the node."""
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise PPRLError("the secret must be at least 16 bytes")
    ids, rows, unreadable = normalise_records(records, today)
    bits = inner_filters(rows, secret, parameters)
    filters = diffuse(bits, diffusion_taps(secret, parameters))
    return Encodings(ids, filters, parameters.version), unreadable


# --- linking -------------------------------------------------------------------------------

@dataclass
class LinkResult:
    """For every partner, {record id: group id}: one group id per person, shared across
    partners, random and new on every run. The counts say how much work was done."""

    groups: dict[str, dict[str, str]]
    threshold: float
    comparisons: int  # Dice coefficients computed
    candidate_pairs: int  # pairs at or above the threshold
    links: int  # pairs kept after the one-to-one choice, which make the groups


class _Groups:
    """Union-find over (party, record index)."""

    def __init__(self):
        self.parent: dict[tuple, tuple] = {}

    def root(self, node):
        path = []
        while node in self.parent:
            path.append(node)
            node = self.parent[node]
        for each in path:
            self.parent[each] = node
        return node

    def join(self, left, right):
        a, b = self.root(left), self.root(right)
        if a != b:
            self.parent[a] = b


def one_to_one(rows: np.ndarray, columns: np.ndarray, scores: np.ndarray
               ) -> list[tuple[int, int, float]]:
    """The pairs kept greedily from the highest coefficient down, each record in at most
    one pair: a register holds a person once, so its best partner record is the one."""
    order = np.lexsort((columns, rows, -scores))
    used_rows, used_columns, kept = set(), set(), []
    for index in order.tolist():
        row, column = int(rows[index]), int(columns[index])
        if row in used_rows or column in used_columns:
            continue
        used_rows.add(row)
        used_columns.add(column)
        kept.append((row, column, float(scores[index])))
    return kept


def link_encodings(parties: Mapping[str, Encodings], threshold: float | None = None, *,
                   parameters: EncodingParameters = DEFAULT_PARAMETERS,
                   threads: int | None = None) -> LinkResult:
    """Link the encodings of several partners (party name → encodings). Every record of a
    partner is compared with every record of each other partner, never with its own; for
    each pair of partners the pairs at or above the threshold are kept one to one, best
    first; the pairs kept are joined into groups across all partners (a person found by
    three partners is one group)."""
    threshold = parameters.threshold if threshold is None else threshold
    if not 0 < threshold <= 1:
        raise PPRLError(f"the threshold {threshold} is not between 0 and 1")
    if len(parties) < 2:
        raise PPRLError("linking needs the encodings of at least two partners")
    for name, encodings in parties.items():
        if encodings.parameters_version != parameters.version:
            raise PPRLError(f"{name}: encoded with parameters {encodings.parameters_version!r}, "
                            f"expected {parameters.version!r}")
        if encodings.filters.shape[1] != parameters.words:
            raise PPRLError(f"{name}: filters of {encodings.filter_bits} bits, expected "
                            f"{parameters.output_bits}")
    groups = _Groups()
    comparisons = candidates = links = 0
    for left, right in combinations(sorted(parties), 2):
        rows, columns, scores = dice_scores(parties[left].filters, parties[right].filters,
                                            threshold, threads=threads)
        comparisons += len(parties[left]) * len(parties[right])
        candidates += len(rows)
        for row, column, _ in one_to_one(rows, columns, scores):
            groups.join((left, row), (right, column))
            links += 1
    names: dict[tuple, str] = {}
    result: dict[str, dict[str, str]] = {}
    for party, encodings in parties.items():
        result[party] = {}
        for index, record_id in enumerate(encodings.record_ids):
            root = groups.root((party, index))
            if root not in names:
                names[root] = secrets.token_hex(12)
            result[party][record_id] = names[root]
    return LinkResult(groups=result, threshold=threshold, comparisons=comparisons,
                      candidate_pairs=candidates, links=links)
