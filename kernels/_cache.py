"""The kernels' on-disk cache, invalidated by a change to any kernel module.

Numba's own cache (``njit(cache=True)``) stamps each function's cache entry
with its own source file only. A kernel compiled together with callees from
other modules (``train_epoch`` inlines ``losses.loss_scale``) would keep its
old machine code when only a callee's module changes, for example after a
``git switch`` or ``git pull``: its index still matches its own file.

Here the stamp of every kernel's entry is Numba's stamp of its own file plus
one hash of the source of every module of this package (the ``.py`` files in
this directory, sorted by name, ``_jit.py`` and this file included). A
change to any kernel module therefore makes every kernel's entry stale, and
the next process compiles again and overwrites it; a tree that has not
changed loads every kernel from the cache as before.

Every kernel loaded from the cache starts Numba's parallel threads first
(``_KernelCacheImpl.rebuild``: Numba records that need only for kernels
compiled in the same process as their parallel callees), and the index and
data files are written so that processes compiling different signatures of
a kernel at once cannot leave an index naming the wrong machine code
(``CheckedCacheFile``).

The cache heals itself and never stops a fit. Each data file holds a
checksum of its payload, verified before anything in it is unpickled or
loaded as machine code; an entry that cannot be read (a truncated, empty or
garbage file, as a power cut or a full disk leaves, a flipped bit, machine
code LLVM refuses) is dropped and compiled again, and the new entry replaces
it for the next process. A cache that cannot be written (a full disk, a
read-only directory) or whose lock another process holds for more than
``LOCK_WAIT_SECONDS`` (a writer stopped by Ctrl-Z, say) leaves the kernel
compiled in memory, not saved. Each says so once, with a
``KernelCacheWarning``.

Everything else is Numba's: the entry lives where Numba would put it
(``NUMBA_CACHE_DIR`` when set, else ``__pycache__`` beside the source when
writable, else the user-wide cache directory), and each file is written
through a temporary file, then renamed. The hash
is computed once, when this module is imported: a few reads of small files.

All this subclasses Numba's private cache classes. A Numba without them
gets Numba's own ``cache=True`` instead (one warning): entries then go stale
with their own module only.
"""

import hashlib
import itertools
import pickle
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numba

try:
    from numba.core import caching as numba_caching
except ImportError:
    numba_caching = None
# a class this Numba lacks is object here, and enable_package_cache falls back to cache=True
CompileResultCacheImpl = getattr(numba_caching, "CompileResultCacheImpl", object)
FunctionCache = getattr(numba_caching, "FunctionCache", object)
IndexDataCacheFile = getattr(numba_caching, "IndexDataCacheFile", object)

try:
    import fcntl
except ImportError:  # Windows: writers are not serialised; loads still check their key
    fcntl = None

#: How long a writer waits for another process's lock before it gives up saving.
LOCK_WAIT_SECONDS = 5.0

#: The private parts of Numba's cache classes this module uses.
NUMBA_CACHE_NAMES = {
    "CompileResultCacheImpl": ("rebuild",),
    "FunctionCache": ("load_overload", "save_overload", "_impl_class"),
    "IndexDataCacheFile": ("load", "_load_index", "_save_index", "_data_name", "_data_path",
                           "_dump", "_open_for_write"),
}  # fmt: skip


class KernelCacheWarning(RuntimeWarning):
    """The kernel cache could not be used as it is: a kernel was compiled
    again, or compiled and not saved. Results are not affected."""


class NumbaInternalsWarning(RuntimeWarning):
    """This Numba lacks a private name a kernel module builds on: the module
    takes a plain path instead (Numba's own cache, counted views, ``np.dot``).
    Results are not affected; speed or the cache's staleness check may be."""


_warned = set()


def warn_once(topic, message, category=KernelCacheWarning):
    """Warn ``message`` the first time ``topic`` comes up in this process."""
    if topic not in _warned:
        _warned.add(topic)
        warnings.warn(message, category, stacklevel=2)


def missing_numba_names():
    """The names of ``NUMBA_CACHE_NAMES`` this Numba lacks ("Class.attribute")."""
    missing = []
    for class_name, attributes in NUMBA_CACHE_NAMES.items():
        cls = globals()[class_name]
        if cls is object:
            missing.append(f"numba.core.caching.{class_name}")
        else:
            missing += [f"{class_name}.{name}" for name in attributes if not hasattr(cls, name)]
    return missing


def checksum(payload):
    """The BLAKE2b digest a data file keeps of its payload's bytes."""
    return hashlib.blake2b(payload).digest()


class DamagedEntry(Exception):
    """A cache file whose content is not what a writer of this module left."""


def _hash_package_source(directory):
    """SHA-256 of the names and contents of the ``.py`` files in ``directory``."""
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("*.py")):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


#: The source of the whole kernels package, as this process imported it.
PACKAGE_SOURCE_HASH = _hash_package_source(Path(__file__).parent)


class _PackageStampedLocator:
    """Numba's locator for one kernel, its source stamp extended by the package's.

    Every other question (where the cache lives, whether it is writable, the
    disambiguator in file names) goes to the locator Numba chose.
    """

    def __init__(self, locator):
        self._locator = locator

    def get_source_stamp(self):
        return (self._locator.get_source_stamp(), PACKAGE_SOURCE_HASH)

    def __getattr__(self, name):
        return getattr(self._locator, name)


class _KernelCacheImpl(CompileResultCacheImpl):
    def __init__(self, py_func):
        super().__init__(py_func)  # Numba picks the locator, as for cache=True
        self._locator = _PackageStampedLocator(self._locator)

    def rebuild(self, target_context, payload):
        """A kernel loaded from the cache, Numba's parallel threads started first.

        Machine code that reaches a ``prange`` loop (the block products)
        calls Numba's thread pool through pointers set when the pool starts.
        Numba's cache entry says to start it only if the parallel kernel was
        compiled in the same process: a kernel compiled where its parallel
        callee had been loaded from the cache is saved without it, and crashes
        on a null pointer when a later process loads it and nothing has
        started the pool. Starting the pool here (once per process, as
        Numba's own entries do) covers every entry.
        """
        numba.get_num_threads()  # starts the pool if it has not started
        return super().rebuild(target_context, payload)


@contextmanager
def _locked(path, wait=LOCK_WAIT_SECONDS):
    """An exclusive lock on the file ``path`` for the block, if it can be had
    within ``wait`` seconds: the block is given True with the lock held, False
    without it (True without fcntl, where there is no lock)."""
    if fcntl is None:
        yield True
        return
    with open(path, "a") as lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class CheckedCacheFile(IndexDataCacheFile):
    """Numba's index and data files of one kernel, safe for processes that
    compile different signatures of it at once, and checked on load.

    Numba names a new data file from the index as it read it, then writes
    the index, then the data: two processes compiling two signatures at the
    same moment can pick the same name, and the index can end up naming one
    signature's machine code for the other, which crashes when loaded. Here
    the writers of one kernel's files take turns (a lock file beside the
    index), each re-reads the index in its turn, writes the data before the
    index names it, and stores the entry's key in the data file; a load
    whose data holds another key (left by a writer of another version of
    the package, say) compiles afresh instead.

    A data file holds ``(key, checksum, payload)``: the payload is Numba's
    pickled entry, machine code included, unpickled only once its checksum
    matches. A file that does not read so raises ``DamagedEntry``.
    """

    def save(self, key, data):
        payload = self._dump(data)
        entry = self._dump((key, checksum(payload), payload))
        with _locked(self._index_path + ".lock") as locked:
            if not locked:
                warn_once(
                    ("locked", self._index_path),
                    f"the kernel cache lock {self._index_path}.lock was held by another "
                    f"process for over {LOCK_WAIT_SECONDS:g} s: kernels compiled in memory "
                    "and not saved (the next process compiles them again)",
                )
                return
            try:
                overloads = self._read_index()
            except Exception:  # damaged: its entries are compiled again as they are met
                overloads = {}
            name = overloads.get(key)
            if name is None:
                taken = set(overloads.values())
                name = next(n for n in map(self._data_name, itertools.count(1)) if n not in taken)
            with self._open_for_write(self._data_path(name)) as file:
                file.write(entry)
            overloads[key] = name
            self._save_index(overloads)

    def _read_index(self):
        """Numba's index, ``{key: data file name}``; raises for an index that is
        not one."""
        overloads = self._load_index()
        if not isinstance(overloads, dict):
            raise DamagedEntry(f"the index {self._index_path} does not hold a dictionary")
        return overloads

    def load(self, key):
        """The payload saved for ``key``; None if there is none, or the data
        file holds another key. Raises ``DamagedEntry`` (or whatever reading
        the index raised) for files no writer of this module left."""
        name = self._read_index().get(key)
        if name is None:
            return None
        path = self._data_path(name)
        try:
            with open(path, "rb") as file:
                entry = pickle.loads(file.read())
        except FileNotFoundError:
            return None
        except Exception as error:
            raise DamagedEntry(f"{path} cannot be unpickled ({error!r})") from error
        if not (isinstance(entry, tuple) and len(entry) == 3):
            raise DamagedEntry(f"{path} does not hold a key, a checksum and a payload")
        saved_key, saved_checksum, payload = entry
        if saved_key != key:
            return None
        if not isinstance(payload, bytes) or saved_checksum != checksum(payload):
            raise DamagedEntry(f"{path} does not match its checksum")
        return pickle.loads(payload)


class KernelCache(FunctionCache):
    """Numba's ``FunctionCache`` whose entries go stale with any kernel module,
    kept in ``CheckedCacheFile``s; a damaged entry is compiled again, and an
    entry that cannot be saved stays in memory."""

    _impl_class = _KernelCacheImpl

    def __init__(self, py_func):
        super().__init__(py_func)
        self._kernel_name = f"{py_func.__module__}.{py_func.__qualname__}"
        self._cache_file = CheckedCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as error:  # whatever the damage raised: unpickling, LLVM, types
            warn_once(
                ("damaged", self._cache_path, self._kernel_name, str(sig)),
                f"the cached kernel {self._kernel_name}{sig} in {self._cache_path} is damaged "
                f"({type(error).__name__}: {error}): dropped and compiled again",
            )
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError as error:  # a full disk, a read-only directory
            warn_once(
                ("unwritable", self._cache_path),
                f"the kernel cache in {self._cache_path} cannot be written ({error}): "
                "kernels compiled in memory and not saved (the next process compiles "
                "them again)",
            )


def enable_package_cache(dispatcher):
    """Cache ``dispatcher``'s compilations as ``cache=True`` would, with the package stamp.

    This is ``Dispatcher.enable_caching()`` with ``KernelCache`` in place of
    ``FunctionCache``; with a Numba whose cache classes lack what
    ``KernelCache`` uses, it is ``enable_caching()`` itself (one warning).
    Under ``NUMBA_DISABLE_JIT=1`` ``njit`` returns the plain function, which
    is returned unchanged.
    """
    if not hasattr(dispatcher, "enable_caching"):
        return dispatcher
    missing = missing_numba_names()
    if not missing:
        try:
            dispatcher._cache = KernelCache(dispatcher.py_func)
            return dispatcher
        except AttributeError as error:  # an attribute Numba sets in __init__
            missing = [str(error)]
    warn_once(
        "numba internals",
        f"numba {numba.__version__} lacks {', '.join(missing)}: the kernels use Numba's "
        "own cache (cache=True), whose entries go stale with their own module only "
        "(after changing a kernel module, delete the kernels' cache)",
        NumbaInternalsWarning,
    )
    dispatcher.enable_caching()
    return dispatcher
