import subprocess
import sys

import pytest
from mmengine.registry import MODELS as MMENGINE_MODELS

from facedisentangle.registry import ALL_REGISTRIES, BACKBONES, LOSSES, MODELS
from facedisentangle.utils import register_all_modules

register_all_modules()


def test_every_kind_has_a_scoped_registry():
    for name in ('backbones', 'losses', 'models', 'datasets', 'transforms', 'metrics', 'hooks',
                 'visualizers', 'optim_wrapper_constructors'):
        assert ALL_REGISTRIES[name].scope == 'facedisentangle'
    assert MMENGINE_MODELS.children['facedisentangle'] is MODELS


def test_runner_side_lookup_finds_our_types():
    assert MODELS.get('SketchAutoEncoder') is not None
    assert 'SketchEncoder' in BACKBONES
    assert 'ReconstructionLoss' in LOSSES
    from facedisentangle.registry import HOOKS, OPTIM_WRAPPER_CONSTRUCTORS
    assert HOOKS.get('FaceVisualizationHook') is not None
    assert HOOKS.get('CheckpointHook') is not None  # MMEngine's, through the parent
    assert OPTIM_WRAPPER_CONSTRUCTORS.get('PerNetworkOptimWrapperConstructor') is not None


def test_unknown_type_names_registry_and_close_names():
    with pytest.raises(KeyError, match=r"facedisentangle::backbone registry.*Close names: "
                                       r"SketchEncoder"):
        BACKBONES.build(dict(type='SketchEncodr'))
    with pytest.raises(KeyError, match=r"facedisentangle::loss registry"):
        LOSSES.build(dict(type='NoSuchLossAtAll'))
    # the Runner path: MMEngine's root registry with our default scope
    with pytest.raises(KeyError, match=r"facedisentangle::model registry.*SketchAutoEncoder"):
        MMENGINE_MODELS.build(dict(type='SketchAutoEncodr'))
    assert 'NoSuchThing' not in BACKBONES  # membership tests do not raise


def test_print_registries_command():
    out = subprocess.run([sys.executable, '-m', 'facedisentangle.utils.print_registries',
                          'losses'], capture_output=True, text=True, check=True).stdout
    assert 'ReconstructionLoss' in out
    bad = subprocess.run([sys.executable, '-m', 'facedisentangle.utils.print_registries',
                          'nope'], capture_output=True, text=True)
    assert bad.returncode != 0 and 'no registry' in bad.stderr


def test_busy_cpu_env_trains_with_one_thread_only_when_busy():
    from facedisentangle.utils.threads import busy_cpu_env

    env, why = busy_cpu_env({'PATH': '/bin'}, load=3.2)
    assert env['OMP_NUM_THREADS'] == '1' and '3.2' in why and env['PATH'] == '/bin'
    env, why = busy_cpu_env({'PATH': '/bin'}, load=0.2)
    assert 'OMP_NUM_THREADS' not in env and why is None
    env, why = busy_cpu_env({'OMP_NUM_THREADS': '2'}, load=5.0)  # the user's choice stays
    assert env['OMP_NUM_THREADS'] == '2' and why is None
