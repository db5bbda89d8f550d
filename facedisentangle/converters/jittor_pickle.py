"""Read the released Jittor ``.pkl`` weight files without Jittor and without running code.

Two formats exist:

* the plain pickle of a ``dict`` of numpy arrays (older Jittor ``Module.save``);
* Jittor's newer ``safepickle``: ``pickle.dumps(obj, protocol=4)`` of ``{name: jittor.Var}``
  followed by the 20-byte SHA-1 of those pickle bytes and the 8 bytes ``b"HCAJSLHD"``. A
  ``jittor.Var`` pickles as ``(jittor.jittor_core.Var, (numpy_array,))``: the global
  ``jittor`` / ``jittor_core.Var`` applied to an array.

:class:`ArrayOnlyUnpickler` resolves only the globals that rebuild numpy arrays
(``numpy.core.multiarray._reconstruct`` and its numpy 2 name, ``numpy.ndarray``,
``numpy.dtype``, ``numpy.core.numeric._frombuffer``; ``_codecs.encode`` only as the
latin-1 ``bytes`` of protocol-2 pickles) and maps Jittor's ``Var`` global to a function that
returns its array argument. Every other global (``os.system``,
``builtins.eval``, ...) is refused with :class:`pickle.UnpicklingError` naming it, so a
tampered file cannot execute anything; object arrays are refused too.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path

import numpy as np

TRAILER = b'HCAJSLHD'
_SHA1 = 20


class JittorPickleError(ValueError):
    """A weights file that is not a dict of numeric arrays (or fails its checksum)."""


def _jittor_var(data, *rest):
    """Stands in for ``jittor.jittor_core.Var`` while unpickling: returns the array."""
    if rest or not isinstance(data, np.ndarray):
        raise pickle.UnpicklingError('jittor Var must be rebuilt from exactly one numpy array, '
                                     f'got {type(data).__name__} and {len(rest)} more arguments')
    return data


def _latin1_bytes(text, encoding=None):
    """Stands in for ``_codecs.encode``, which protocol-2 pickles use to store ``bytes``."""
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError('_codecs.encode is allowed only as (str, "latin1") for '
                                     'array bytes')
    return text.encode('latin1')


def _array_globals() -> dict[tuple[str, str], object]:
    core = getattr(np, '_core', None) or np.core
    reconstruct = core.multiarray._reconstruct
    frombuffer = core.numeric._frombuffer
    allowed: dict[tuple[str, str], object] = {('numpy', 'ndarray'): np.ndarray,
                                              ('numpy', 'dtype'): np.dtype,
                                              ('jittor', 'jittor_core.Var'): _jittor_var,
                                              ('_codecs', 'encode'): _latin1_bytes}
    for mod in ('numpy.core', 'numpy._core'):  # numpy 1.x and 2.x names
        allowed[(f'{mod}.multiarray', '_reconstruct')] = reconstruct
        allowed[(f'{mod}.numeric', '_frombuffer')] = frombuffer
    return allowed


class ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can build dicts, lists, strings, numbers and numpy arrays only."""

    _ALLOWED = _array_globals()

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f'refused global {module}.{name}: only numpy array reconstruction (and '
                'jittor Var) may appear in a weights file') from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f'refused persistent id {pid!r} in a weights file')


def loads_arrays(data: bytes, name: str = 'weights') -> dict[str, np.ndarray]:
    """Unpickle ``data`` (either format) into ``{key: numeric array}``."""
    if data.endswith(TRAILER):
        if len(data) < len(TRAILER) + _SHA1:
            raise JittorPickleError(f'{name}: truncated Jittor file')
        checksum = data[-len(TRAILER) - _SHA1:-len(TRAILER)]
        data = data[:-len(TRAILER) - _SHA1]
        if hashlib.sha1(data).digest() != checksum:
            raise JittorPickleError(f'{name}: SHA-1 checksum does not match (corrupt or '
                                    'modified file)')
    stream = io.BytesIO(data)
    try:
        obj = ArrayOnlyUnpickler(stream).load()
    except pickle.UnpicklingError as e:
        raise JittorPickleError(f'{name}: {e}') from None
    except Exception as e:  # truncated or not a pickle at all
        raise JittorPickleError(f'{name}: not a readable weights pickle '
                                f'({type(e).__name__}: {e})') from None
    if stream.tell() != len(data):
        raise JittorPickleError(f'{name}: {len(data) - stream.tell()} bytes after the pickle')
    if not isinstance(obj, dict):
        raise JittorPickleError(f'{name}: holds a {type(obj).__name__}, expected a dict of '
                                'arrays')
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, np.ndarray):
            raise JittorPickleError(f'{name}: entry {key!r} is a {type(value).__name__}, '
                                    'expected a numpy array under a string key')
        if value.dtype.kind not in 'fiub':
            raise JittorPickleError(f'{name}: entry {key!r} has dtype {value.dtype}, not a '
                                    'number type')
    return obj


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a Jittor ``.pkl`` weights file (plain or ``safepickle`` format)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: no such file')
    return loads_arrays(path.read_bytes(), str(path))
