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

Everything else is Numba's: the entry lives where Numba would put it
(``NUMBA_CACHE_DIR`` when set, else ``__pycache__`` beside the source when
writable, else the user-wide cache directory), and each file is written
through a temporary file, then renamed. The hash
is computed once, when this module is imported: a few reads of small files.
"""

import hashlib
import itertools
from contextlib import contextmanager
from pathlib import Path

import numba
from numba.core.caching import CompileResultCacheImpl, FunctionCache, IndexDataCacheFile
from numba.core.dispatcher import Dispatcher

try:
    import fcntl
except ImportError:  # Windows: writers are not serialised; loads still check their key
    fcntl = None


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
def _locked(path):
    """An exclusive lock on the file ``path`` for the block (none without fcntl)."""
    if fcntl is None:
        yield
        return
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class CheckedCacheFile(IndexDataCacheFile):
    """Numba's index and data files of one kernel, safe for processes that
    compile different signatures of it at once.

    Numba names a new data file from the index as it read it, then writes
    the index, then the data: two processes compiling two signatures at the
    same moment can pick the same name, and the index can end up naming one
    signature's machine code for the other, which crashes when loaded. Here
    the writers of one kernel's files take turns (a lock file beside the
    index), each re-reads the index in its turn, writes the data before the
    index names it, and stores the entry's key in the data file; a load
    whose data holds another key (left by a writer of another version of
    the package, say) compiles afresh instead.
    """

    def save(self, key, data):
        with _locked(self._index_path + ".lock"):
            overloads = self._load_index()
            name = overloads.get(key)
            if name is None:
                taken = set(overloads.values())
                name = next(n for n in map(self._data_name, itertools.count(1)) if n not in taken)
            self._save_data(name, (key, data))
            overloads[key] = name
            self._save_index(overloads)

    def load(self, key):
        entry = super().load(key)
        if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] == key):
            return None
        return entry[1]


class KernelCache(FunctionCache):
    """Numba's ``FunctionCache`` whose entries go stale with any kernel module,
    kept in ``CheckedCacheFile``s."""

    _impl_class = _KernelCacheImpl

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = CheckedCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )


def enable_package_cache(dispatcher):
    """Cache ``dispatcher``'s compilations as ``cache=True`` would, with the package stamp.

    This is ``Dispatcher.enable_caching()`` with ``KernelCache`` in place of
    ``FunctionCache``. Under ``NUMBA_DISABLE_JIT=1`` ``njit`` returns the plain
    function, which is returned unchanged.
    """
    if isinstance(dispatcher, Dispatcher):
        dispatcher._cache = KernelCache(dispatcher.py_func)
    return dispatcher
