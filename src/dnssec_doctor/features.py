"""What libraries import on the chance it is needed, decided for a one-shot command.

dnspython's optional features, decided without importing ``importlib.metadata``;
idna, which dnspython imports with ``dns.name`` and calls only for a name in Unicode, and
cryptography's key serialization, which dnspython imports for key files, both loaded only
if used; and asyncio, imported without ``ssl`` for a command that never speaks TLS.

When ``dns.name`` and ``dns.dnssec`` are imported, dnspython asks ``importlib.metadata``
whether idna and cryptography are installed and recent enough (``dns._features``).
Importing ``importlib.metadata`` (``email``, ``zipfile``, ``csv``, ...) and reading the two
packages' metadata is about 30 ms of CPU, a tenth of a whole check (bench/README.md). The
same answers come from the packages' own ``__version__``, held to dnspython's own
requirement table with dnspython's own version parser; ``importlib.metadata`` stays
importable: a stand-in imports it on first use, by whatever else asks it.

``decide_dnspython_features`` runs before anything imports dnspython (``cli.run``, for
the commands that run once); when anything does not go as expected (dnspython already
imported, its private feature table changed, a package without ``__version__``), it
leaves the decision to dnspython, as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

# The features a check makes dnspython decide, and the package whose version says.
FEATURES = ("dnssec", "idna")


_loading = threading.RLock()  # the stand-ins' first use (reentrant: an import may read one)


def decide_dnspython_features() -> None:
    if "dns" in sys.modules or "dns._features" in sys.modules:
        return  # too late: dnspython decides as it imports
    if "importlib.metadata" not in sys.modules:
        _import_on_first_use("importlib.metadata")
    try:
        import dns._features as features

        decided = {feature: _fulfilled(features, feature) for feature in FEATURES}
    except Exception:  # dnspython changed: it decides itself, with importlib.metadata
        return
    for feature, available in decided.items():
        if available is not None:
            features.force(feature, available)
    if decided.get("idna") and "idna" not in sys.modules:
        # dnspython imports idna with dns.name, and calls it only for a name in Unicode
        # (from or to IDNA 2008): its tables (about 4 ms) load then, not in every check.
        _import_on_first_use("idna")


# Imported by dnspython's DNSSEC algorithms (``dns.dnssecalgs``) for reading and writing
# keys as PEM and raw bytes, never to verify a signature; the module pulls in SSH key
# formats and their ciphers (about 1 % of a check's CPU; the RSA backend loads some).
KEY_SERIALIZATION = "cryptography.hazmat.primitives.serialization"


def defer_key_serialization() -> None:
    """Before dnspython's DNSSEC algorithms are imported: cryptography's key serialization
    module is a stand-in that imports it on first use (a check verifies signatures with
    keys built from DNSKEY records, and writes no key)."""
    if KEY_SERIALIZATION not in sys.modules and "dns.dnssecalgs" not in sys.modules:
        _import_on_first_use(KEY_SERIALIZATION)


def _fulfilled(features: ModuleType, feature: str) -> bool | None:
    """Whether every requirement of ``feature`` holds (None: not known here)."""
    for requirement in features._requirements[feature]:
        package, minimum = requirement.split(">=")
        spec = importlib.util.find_spec(package)
        if spec is None:
            return False
        if package in _READ_UNIMPORTED:
            version = _version_unimported(spec, *_READ_UNIMPORTED[package])
        else:
            version = getattr(importlib.import_module(package), "__version__", None)
        if not isinstance(version, str):
            return None
        if features._tuple_from_text(version) < features._tuple_from_text(minimum):
            return False
    return True


# Packages whose version is read from the file the package itself takes it from, without
# importing the package (which the stand-in above then defers): the file, and the line.
_READ_UNIMPORTED = {"idna": ("package_data.py", re.compile(r'^__version__ = "([^"]+)"$', re.M))}


def _version_unimported(spec: ModuleSpec, name: str, line: re.Pattern[str]) -> str | None:
    """The version of the package found at ``spec`` as its ``__version__`` would say,
    read from its file ``name`` without importing it; None when the file does not say
    (then nothing is decided here for it: dnspython decides, as before)."""
    for directory in spec.submodule_search_locations or ():
        try:
            with (Path(directory) / name).open(encoding="utf-8") as source:
                found = line.search(source.read(64 * 1024))
        except (OSError, UnicodeError):
            continue
        if found:
            return found.group(1)
    return None


def _import_on_first_use(name: str) -> None:
    """Put a stand-in for module ``name`` in ``sys.modules``: an import statement takes it
    as the module, and its first attribute read (PEP 562's module ``__getattr__``)
    imports the real module, which replaces it. Limit: for a package, a submodule
    imported before any attribute of the package is read (``import package.sub`` as the
    first touch) runs twice, once by the real package and once by that import, so its
    classes exist twice; nothing a one-shot command runs does that (dnspython and
    verify/crypto.py import names from the package itself)."""
    try:
        spec = importlib.util.find_spec(name)  # imports the packages above it
    except ImportError:  # a package above it is missing
        return
    if spec is None:
        return
    stand_in = ModuleType(name)
    stand_in.__spec__ = spec  # what the import system reads of a module already imported

    def load(attribute: str) -> object:
        with _loading:  # two threads reading at once: one import, no KeyError
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            module = importlib.import_module(name)
        return getattr(module, attribute)

    stand_in.__getattr__ = load  # type: ignore[method-assign]
    sys.modules[name] = stand_in
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, stand_in)


def import_asyncio_without_tls() -> None:
    """Import asyncio without ``ssl``, for a process that never speaks TLS (check, probe).

    asyncio imports ``ssl`` on the chance a transport needs TLS; that loads the system's
    OpenSSL (libssl) and builds the module's enums, about 5-10 ms of a check's CPU
    (bench/README.md). Here asyncio is imported while ``import ssl`` fails, as on a Python
    built without it, so only asyncio's own TLS (``start_tls``, ``ssl=`` of its
    connections) is unavailable in this process: ``ssl`` itself stays importable for
    whatever asks for it afterwards. Nothing is done once either is imported."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]
