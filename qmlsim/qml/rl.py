"""Advantage actor-critic (A2C) with QFWP policy and value heads, on gymnasium environments.

The paper trains QFWP agents with asynchronous advantage actor-critic on MiniGrid
(QA3C); which maps, observation encoding and scores it used are not known to us, so this
module is our reconstruction: synchronous A2C on whole episodes, Monte Carlo returns,
advantage ``G_t - V(s_t)`` standardised per episode, entropy bonus, gradient clipping,
optax RMSprop. The actor and the critic are two QFWPs (``outputs`` = number of actions,
and 1) whose fast weights accumulate over an episode and reset at its start, so the
agent is recurrent; by default they decay (an extension, see :func:`train_a2c`). The classical baseline is
the same agent with two LSTMs of similar size.

While acting, each model advances one step at a time (``step``): the QFWP adds the
step's outer product to its angles and runs its circuit on one row. For the update, the
episode's outputs are recomputed in one batched engine call (``apply(..., sequence=True)``:
one row per step), padded to the episode limit so that every episode reuses one
compiled update.

``gymnasium`` and ``minigrid`` come with the ``[rl]`` extra; nothing is downloaded.

>>> agent = Agent.qfwp(observation_dim=4, actions=2)
>>> agent.param_count
275
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

import numpy as np

from qmlsim.qml import fast_weights
from qmlsim.qml.fast_weights import QFWPConfig
from qmlsim.qml.recurrent import LSTMConfig, lstm_apply, lstm_cell, lstm_init
from qmlsim.qml.sequence_training import param_count, progress_bar

__all__ = ["Agent", "train_a2c", "random_returns", "make_environment", "ENVIRONMENTS", "LABEL"]

LABEL = "A2C with QFWP heads (our reconstruction; the paper's RL setup is not known to us)"


def _require_gymnasium() -> Any:
    try:
        import gymnasium  # noqa: PLC0415
    except ImportError as err:
        raise ImportError('reinforcement learning needs gymnasium: pip install -e ".[rl]"') from err
    return gymnasium


class _MiniGridFeatures:
    """An empty-room MiniGrid map seen as 4 numbers: offset to the goal (scaled) and heading (cos, sin).

    Actions are MiniGrid's first three (turn left, turn right, forward): the rest do
    nothing in an empty room.
    """

    actions = 3
    observation_dim = 4

    def __init__(self, env_id: str):
        gymnasium = _require_gymnasium()
        try:
            import minigrid  # noqa: F401, PLC0415 - registers the MiniGrid environments
        except ImportError as err:
            raise ImportError('MiniGrid needs the minigrid package: pip install -e ".[rl]"') from err
        self.env = gymnasium.make(env_id)

    def _features(self) -> np.ndarray:
        grid = self.env.unwrapped
        ax, ay = grid.agent_pos
        gx, gy = grid.width - 2, grid.height - 2  # the Empty maps put the goal in the far corner
        angle = np.pi / 2 * grid.agent_dir
        return np.array([(gx - ax) / grid.width, (gy - ay) / grid.height, np.cos(angle), np.sin(angle)])

    def reset(self, seed: int | None = None) -> np.ndarray:
        self.env.reset(seed=seed)
        return self._features()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        _, reward, terminated, truncated, _ = self.env.step(int(action))
        return self._features(), float(reward), bool(terminated or truncated)

    @property
    def max_steps(self) -> int:
        return int(self.env.unwrapped.max_steps)


# typical magnitudes of each observation, so that the scaled values are O(1): the circuit
# encodes them as rotation angles, which cannot be rescaled by a trainable weight
_SCALES = {"CartPole-v1": np.array([2.4, 3.0, 0.21, 3.0])}


class _GymFeatures:
    """A gymnasium environment with a flat Box observation (CartPole: 4 numbers, scaled to O(1))."""

    def __init__(self, env_id: str):
        gymnasium = _require_gymnasium()
        self.env = gymnasium.make(env_id)
        self.actions = int(self.env.action_space.n)
        self.observation_dim = int(np.prod(self.env.observation_space.shape))
        self.scale = _SCALES.get(env_id, np.ones(self.observation_dim))

    def reset(self, seed: int | None = None) -> np.ndarray:
        observation, _ = self.env.reset(seed=seed)
        return np.asarray(observation, dtype=float).reshape(-1) / self.scale

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        observation, reward, terminated, truncated, _ = self.env.step(int(action))
        return np.asarray(observation, dtype=float).reshape(-1) / self.scale, float(reward), bool(terminated or truncated)

    @property
    def max_steps(self) -> int:
        return int(self.env.spec.max_episode_steps)


ENVIRONMENTS = {"CartPole-v1": _GymFeatures, "MiniGrid-Empty-5x5-v0": _MiniGridFeatures}


def make_environment(env_id: str) -> Any:
    """``CartPole-v1`` or ``MiniGrid-Empty-5x5-v0`` (or ``-6x6``, ``-8x8``) with ``reset``/``step``/``actions``/``observation_dim``."""
    if env_id.startswith("MiniGrid-Empty-"):
        return _MiniGridFeatures(env_id)
    if env_id in ENVIRONMENTS:
        return ENVIRONMENTS[env_id](env_id)
    raise ValueError(f"unknown environment {env_id!r}; choose CartPole-v1 or MiniGrid-Empty-NxN-v0")


@dataclasses.dataclass(frozen=True)
class Agent:
    """An actor and a critic, each a sequence model with ``init``, ``sequence`` and ``step`` (final class).

    Use :meth:`qfwp` or :meth:`lstm` to build one.
    """

    kind: str
    actor: Any
    critic: Any

    @staticmethod
    def qfwp(
        observation_dim: int, actions: int, num_wires: int = 8, depth: int = 2, latent: int = 8, update: str = "additive"
    ) -> Agent:
        """Two QFWPs (``encoding="arctan"``, an extension: observations are not bounded); ``update`` as in :class:`QFWPConfig`."""
        def config(outputs: int) -> QFWPConfig:
            return QFWPConfig(num_wires=num_wires, depth=depth, latent=latent, readout_wires=min(4, num_wires),
                              input_dim=observation_dim, outputs=outputs, update=update, encoding="arctan")

        return Agent("qfwp", config(actions), config(1))

    @staticmethod
    def lstm(observation_dim: int, actions: int, hidden: int = 4) -> Agent:
        """Two classical LSTMs (303 parameters for CartPole against the QFWP agent's 275)."""
        return Agent("lstm", LSTMConfig(observation_dim, hidden, actions), LSTMConfig(observation_dim, hidden, 1))

    def init(self, key: Any) -> dict[str, Any]:
        import jax  # noqa: PLC0415

        k_actor, k_critic = jax.random.split(key)
        init = fast_weights.init if self.kind == "qfwp" else lstm_init
        return {"actor": init(k_actor, self.actor), "critic": init(k_critic, self.critic)}

    @property
    def param_count(self) -> int:
        import jax  # noqa: PLC0415

        return param_count(jax.eval_shape(lambda: self.init(jax.random.PRNGKey(0))))

    def sequence(self, params: dict, X: Any, simulator: Any) -> tuple[Any, Any]:
        """Logits ``(batch, steps, actions)`` and values ``(batch, steps)`` after every step of ``X``."""
        apply = fast_weights.apply if self.kind == "qfwp" else lstm_apply
        logits = apply(params["actor"], X, self.actor, simulator, sequence=True)
        values = apply(params["critic"], X, self.critic, simulator, sequence=True)
        return logits, values[..., 0]

    def carry(self) -> Any:
        """The recurrent state at the start of an episode (one row)."""
        import jax.numpy as jnp  # noqa: PLC0415

        if self.kind == "qfwp":
            return jnp.zeros((1, self.actor.depth, self.actor.num_wires))
        return (jnp.zeros((1, self.actor.hidden)), jnp.zeros((1, self.actor.hidden)))

    def step(self, params: dict, carry: Any, x: Any, simulator: Any) -> tuple[Any, Any]:
        """Advance the actor one step from ``carry`` with observation ``x`` ``(1, obs)``: ``(carry, logits (1, actions))``."""
        import jax  # noqa: PLC0415

        p = params["actor"]
        if self.kind == "qfwp":
            kept = jax.nn.sigmoid(p["decay"]) * carry if self.actor.update == "decay" else carry
            theta = kept + fast_weights.fast_weights(p, x[:, None], self.actor)[:, 0]
            return theta, fast_weights.head(p, x, theta.reshape(1, -1), self.actor, simulator)
        h, c = lstm_cell(p, carry, x)
        return (h, c), h @ p["output"]["w"] + p["output"]["b"]


def random_returns(env_id: str, episodes: int, seed: int = 0) -> np.ndarray:
    """Returns of a uniformly random policy: the floor an agent must beat."""
    env = make_environment(env_id)
    rng = np.random.default_rng(seed)
    out = []
    for episode in range(episodes):
        env.reset(seed=seed * 100_003 + episode)
        total, done = 0.0, False
        while not done:
            _, reward, done = env.step(int(rng.integers(env.actions)))
            total += reward
        out.append(total)
    return np.asarray(out)


def train_a2c(
    env_id: str = "CartPole-v1",
    agent: str = "qfwp",
    episodes: int = 300,
    seed: int = 0,
    learning_rate: float = 0.02,
    gamma: float = 0.99,
    entropy: float = 0.01,
    value_weight: float = 0.5,
    update: str = "decay",
    verbose: bool = False,
    callback: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Train an A2C agent for ``episodes`` episodes; returns ``{"returns", "seconds", "param_count", ...}``.

    Args:
        env_id: ``"CartPole-v1"`` or ``"MiniGrid-Empty-5x5-v0"`` (6x6, 8x8 too).
        agent: ``"qfwp"`` (QFWP actor and critic) or ``"lstm"`` (the classical baseline).
        episodes: training episodes (one update after each).
        seed: seeds the parameters, the action draws and the environment resets.
        learning_rate, gamma, entropy, value_weight: optimiser step, discount, entropy
            bonus and weight of the critic's squared error.
        verbose: progress bar with the running mean return.
        update: the QFWP agent's fast-weight rule: ``"decay"`` (our extension, the default
            here), ``"additive"`` (the paper's) or ``"gated"``. Over CartPole's episodes of up
            to 500 steps the additive angles grow without bound. In our runs (600 episodes,
            learning rate 0.02, seeds 0-3) the last-20 mean return of the decaying agent was
            22, 146, 324 and 187, and of the additive one 25, 23, 22 and 22, against 22 for a
            random policy.
        callback: called as ``callback(episode, return)`` after every episode.
    """
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415
    import optax  # noqa: PLC0415

    from qmlsim.simulators import Simulator  # noqa: PLC0415

    if agent not in ("qfwp", "lstm"):
        raise ValueError(f"agent must be 'qfwp' or 'lstm', got {agent!r}")
    if not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    env = make_environment(env_id)
    if agent == "qfwp":
        model = Agent.qfwp(env.observation_dim, env.actions, update=update)
    else:
        model = Agent.lstm(env.observation_dim, env.actions)
    limit = env.max_steps
    simulator = Simulator(backend="jax", dtype="complex64")  # float32 is plenty for a policy
    params = model.init(jax.random.PRNGKey(seed))
    # gradient norm clipped at 0.5, as common A2C implementations do: single-episode updates are noisy
    optimizer = optax.chain(optax.clip_by_global_norm(0.5), optax.rmsprop(learning_rate, decay=0.99, eps=1e-8, eps_in_sqrt=False))
    state = optimizer.init(params)

    @jax.jit
    def act(p: Any, carry: Any, x: Any) -> tuple[Any, Any]:
        return model.step(p, carry, x, simulator)

    def loss(p: Any, X: Any, actions: Any, returns: Any, mask: Any) -> Any:
        logits, values = model.sequence(p, X, simulator)
        logp = jax.nn.log_softmax(logits[0])
        chosen = jnp.take_along_axis(logp, actions[:, None], axis=1)[:, 0]
        count = jnp.sum(mask)
        # advantages standardised over the episode: the step size no longer scales with the return
        raw = jax.lax.stop_gradient(returns - values[0])
        mean = jnp.sum(mask * raw) / count
        spread = jnp.sqrt(jnp.sum(mask * (raw - mean) ** 2) / count) + 1e-6
        advantage = (raw - mean) / spread
        policy = -jnp.sum(mask * chosen * advantage) / count
        critic = jnp.sum(mask * (returns - values[0]) ** 2) / count
        bonus = -jnp.sum(mask[:, None] * jnp.exp(logp) * logp) / count
        return policy + value_weight * critic - entropy * bonus

    @jax.jit
    def update(p: Any, s: Any, X: Any, actions: Any, returns: Any, mask: Any) -> tuple[Any, Any]:
        grads = jax.grad(loss)(p, X, actions, returns, mask)
        updates, s = optimizer.update(grads, s, p)
        return optax.apply_updates(p, updates), s

    rng = np.random.default_rng(seed)
    progress = progress_bar(verbose, episodes, f"A2C {agent} on {env_id}")
    history, began = [], time.perf_counter()
    for episode in range(episodes):
        observation = env.reset(seed=seed * 100_003 + episode)
        carry, done = model.carry(), False
        observations, actions, rewards = [], [], []
        while not done:
            carry, logits = act(params, carry, jnp.asarray(observation[None], jnp.float32))
            probabilities = np.asarray(jax.nn.softmax(logits[0]), dtype=float)
            action = int(rng.choice(len(probabilities), p=probabilities / probabilities.sum()))
            observations.append(observation)
            actions.append(action)
            observation, reward, done = env.step(action)
            rewards.append(reward)
        steps = len(rewards)
        returns = np.zeros(limit)
        running = 0.0
        for t in range(steps - 1, -1, -1):
            running = rewards[t] + gamma * running
            returns[t] = running
        X = np.zeros((1, limit, env.observation_dim))
        X[0, :steps] = observations
        chosen = np.zeros(limit, dtype=np.int32)
        chosen[:steps] = actions
        mask = (np.arange(limit) < steps).astype(np.float32)
        params, state = update(params, state, jnp.asarray(X, jnp.float32), jnp.asarray(chosen), jnp.asarray(returns, jnp.float32),
                               jnp.asarray(mask))
        total = float(sum(rewards))
        history.append(total)
        if callback is not None:
            callback(episode, total)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(mean20=f"{np.mean(history[-20:]):.1f}")
    if progress is not None:
        progress.close()
    return {
        "label": LABEL, "env": env_id, "agent": agent, "seed": seed, "returns": history,
        "param_count": model.param_count, "seconds": time.perf_counter() - began,
    }
