"""Names of the trained networks: the state-dict key prefixes of every checkpoint.

A per-component network is saved as ``<prefix>.<component>.<parameter>`` (e.g.
``generators.eye1.enc_style.model.7.weight``), a whole-face one as ``<prefix>.<parameter>``
(``fusion_generator.model.1.weight``). The prefix is the model's attribute name and the config
key is its singular (``generators`` <- ``model.generator``). These names are the checkpoint
format: they never change, so that released and existing checkpoints keep loading.

Wrappers add ``module.`` to the keys they hold: MMEngine's ``EMAHook`` keeps the raw weights
under ``ema_state_dict`` as ``module.generators.eye1...``, and a sub-network wrapped by
``MMSeparateDistributedDataParallel`` gives ``generators.module.eye1...``.
:func:`unwrap_key` takes either ``module.`` away.
"""
from __future__ import annotations

from collections.abc import Iterable

#: per-component networks of the training stages, ``{key prefix: config key}``
PER_COMPONENT_NETWORKS = {'sketch_encoders': 'sketch_encoder',
                          'sketch_decoders': 'sketch_decoder',
                          'image_encoders': 'image_encoder', 'generators': 'generator',
                          'discriminators': 'discriminator'}
#: of those, the ones only training needs (inference and export leave them out)
TRAINING_ONLY_NETWORKS = ('discriminators',)

WRAPPER_PREFIX = 'module.'


def unwrap_key(key: str, wrapped: Iterable[str] = ('',)) -> str:
    """``key`` without the ``module.`` that a wrapper of one of ``wrapped`` put in it.

    ``wrapped`` names the wrapped modules by their key prefix, ``''`` for the whole state
    (a wrapper around everything, as ``ema_state_dict``)::

        unwrap_key('module.generators.eye1.w')                    -> 'generators.eye1.w'
        unwrap_key('generators.module.eye1.w', ['generators'])    -> 'generators.eye1.w'
        unwrap_key('generators.eye1.w', ['generators'])           -> 'generators.eye1.w'
    """
    for name in wrapped:
        head = f'{name}.{WRAPPER_PREFIX}' if name else WRAPPER_PREFIX
        if key.startswith(head):
            return key[:len(head) - len(WRAPPER_PREFIX)] + key[len(head):]
    return key


def component_of(key: str) -> str | None:
    """``'generators.eye1.model.0.weight'`` (or ``'module.generators.eye1...'``) -> ``'eye1'``;
    None for keys of no per-component network."""
    parts = unwrap_key(key).split('.')
    if len(parts) > 2 and parts[0] in PER_COMPONENT_NETWORKS:
        return parts[1]
    return None


def is_discriminator(key: str) -> bool:
    """Whether ``key`` (a state-dict key or a network name) belongs to a discriminator
    (``discriminators.*``, ``fusion_discriminator.*``, ``sketch_discriminator.*``): networks
    that only training needs, which a checkpoint for testing or editing may lack."""
    return 'discriminator' in unwrap_key(key).split('.')[0]
