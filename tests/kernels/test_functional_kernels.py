"""Run-time kernels of a user's Lagrangian (issue 17, deliverable 4, kernels half).

Three routes: the IB posed as a functional gives the committed ``ib`` kernels' numbers; the squared
IB's generated step agrees with a literal mpmath oracle at 50 digits (written here with loops, from
theory.md 11.2: the IB update with beta / (2 I(X;T)) at the current encoder); NumPy and Torch agree.
The disk cache: a second call loads without deriving, in well under a second; a corrupt or
other-version entry is regenerated, not executed; the directory follows IBTHEORY_CACHE_DIR and
XDG_CACHE_HOME.
"""

from __future__ import annotations

import json
import time

import mpmath
import numpy as np
import pytest
import sympy as sp

from ibtheory._generated import ib_numpy
from ibtheory.kernels import CACHE_ENV, default_cache_dir, functional_kernels
from ibtheory.symbolic import I, beta, squared_ib_lagrangian

IB = I("X;T") - beta * I("T;Y")
#: Two float64 routes through the same formulas (reductions in another order): a few ulps.
SAME_FORMULAS_RTOL = 1e-12
#: float64 kernel vs the 50-digit oracle: the log-domain step has a few dozen roundings.
ORACLE_RTOL = 1e-11
#: Loading a cached entry must be fast (issue 17: under a second); generous for a loaded machine.
CACHED_LOAD_S = 1.0


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("functional-cache")


def _problem(seed: int = 0, n_x: int = 5, n_y: int = 3, n_t: int = 4):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n_x)), rng.dirichlet(np.ones(n_y), n_x), rng.dirichlet(np.ones(n_t), n_x)


def test_ib_posed_as_a_functional_gives_the_committed_ib_kernels(cache):
    k = functional_kernels(IB, cache_dir=cache)
    assert k.parameters == ("beta",)
    p_x, p_y_given_x, q = _problem()
    got = k.numpy.functional_step(np.log(q), p_x, p_y_given_x, 3.0)
    ref = ib_numpy.ib_step(np.log(q), p_x, p_y_given_x, 3.0)
    for field in ("p_t", "p_y_given_t", "log_p_t_given_x"):
        np.testing.assert_allclose(getattr(got, field), getattr(ref, field), rtol=SAME_FORMULAS_RTOL, atol=0)
    point = k.numpy.functional_point(p_x, p_y_given_x, q, 3.0)
    ref_point = ib_numpy.ib_point(p_x, p_y_given_x, q)
    np.testing.assert_allclose([point.i_xt, point.i_ty], [ref_point.i_xt, ref_point.i_ty], rtol=SAME_FORMULAS_RTOL)
    np.testing.assert_allclose(point.objective, ref_point.i_xt - 3.0 * ref_point.i_ty, rtol=SAME_FORMULAS_RTOL)


def _squared_ib_step_oracle(q, p_x, p_y_given_x, beta_value: float) -> np.ndarray:
    """Literal 50-digit oracle: the IB update with beta_eff = beta / (2 I(X;T)) (theory.md 11.2)."""
    with mpmath.workdps(50):
        n_x, n_t = q.shape
        n_y = p_y_given_x.shape[1]
        mp = np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])
        q, px, pyx = mp(q), mp(p_x), mp(p_y_given_x)
        pt = [mpmath.fsum(px[i] * q[i, j] for i in range(n_x)) for j in range(n_t)]
        pyt = [[mpmath.fsum(px[i] * q[i, j] * pyx[i, k] for i in range(n_x)) / pt[j] for j in range(n_t)] for k in range(n_y)]
        i_xt = mpmath.fsum(px[i] * q[i, j] * mpmath.log(q[i, j] / pt[j]) for i in range(n_x) for j in range(n_t))
        beta_eff = mpmath.mpf(beta_value) / (2 * i_xt)
        out = np.empty((n_x, n_t))
        for i in range(n_x):
            score = [
                mpmath.log(pt[j]) - beta_eff * mpmath.fsum(pyx[i, k] * mpmath.log(pyx[i, k] / pyt[k][j]) for k in range(n_y))
                for j in range(n_t)
            ]
            log_z = mpmath.log(mpmath.fsum(mpmath.exp(s) for s in score))
            out[i] = [float(s - log_z) for s in score]
    return out


def test_squared_ib_step_matches_a_50_digit_oracle_in_both_backends(cache):
    torch = pytest.importorskip("torch")
    k = functional_kernels(squared_ib_lagrangian(), cache_dir=cache)
    p_x, p_y_given_x, q = _problem(1)
    got = k.numpy.functional_step(np.log(q), p_x, p_y_given_x, 2.0).log_p_t_given_x
    np.testing.assert_allclose(got, _squared_ib_step_oracle(q, p_x, p_y_given_x, 2.0), rtol=ORACLE_RTOL, atol=0)
    got_torch = k.torch.functional_step(torch.tensor(np.log(q)), torch.tensor(p_x), torch.tensor(p_y_given_x), 2.0)
    np.testing.assert_allclose(got_torch.log_p_t_given_x.numpy(), got, rtol=SAME_FORMULAS_RTOL, atol=0)


def test_a_cached_functional_loads_without_deriving(cache):
    functional_kernels(IB, cache_dir=cache)  # generated (or already cached) by the first test
    start = time.perf_counter()
    k = functional_kernels(IB, cache_dir=cache)
    elapsed = time.perf_counter() - start
    assert k.from_cache and k.derivation is None
    assert elapsed < CACHED_LOAD_S
    p_x, p_y_given_x, q = _problem()
    np.testing.assert_array_equal(
        k.numpy.functional_step(np.log(q), p_x, p_y_given_x, 3.0).log_p_t_given_x,
        ib_numpy.ib_step(np.log(q), p_x, p_y_given_x, 3.0).log_p_t_given_x,
    )


def test_a_corrupt_cache_entry_is_regenerated_not_executed(cache):
    k = functional_kernels(IB, cache_dir=cache)
    module = cache / f"{k.key}_numpy.py"
    module.write_text("raise SystemExit('a corrupt cache entry was executed')\n")
    again = functional_kernels(IB, cache_dir=cache)
    assert not again.from_cache
    assert "SystemExit" not in module.read_text()
    assert functional_kernels(IB, cache_dir=cache).from_cache


def test_a_cache_entry_from_another_sympy_version_is_not_trusted(cache):
    k = functional_kernels(IB, cache_dir=cache)
    manifest_path = cache / f"{k.key}.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["versions"]["sympy"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    assert not functional_kernels(IB, cache_dir=cache).from_cache
    manifest_path.write_text("{not json")
    assert not functional_kernels(IB, cache_dir=cache).from_cache
    assert functional_kernels(IB, cache_dir=cache).from_cache


def test_the_cache_key_depends_on_the_lagrangian_and_its_parameters(cache):
    gamma = sp.Symbol("gamma", positive=True)
    two = functional_kernels(I("X;T") - gamma * I("T;Y"), params={gamma: 2}, cache_dir=False)
    assert two.key != functional_kernels(IB, cache_dir=cache).key and two.parameters == ()
    p_x, p_y_given_x, q = _problem()
    np.testing.assert_allclose(
        two.numpy.functional_step(np.log(q), p_x, p_y_given_x).log_p_t_given_x,
        ib_numpy.ib_step(np.log(q), p_x, p_y_given_x, 2.0).log_p_t_given_x,
        rtol=SAME_FORMULAS_RTOL,
    )


def test_the_default_cache_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "ibtheory" / "functionals"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "ibtheory" / "functionals"


def test_bad_lagrangian_raises_before_anything_is_cached(tmp_path):
    with pytest.raises(ValueError, match="Abs in"):
        functional_kernels(sp.Abs(I("X;T")) - beta * I("T;Y"), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
