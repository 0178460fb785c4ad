"""Full-sequence GRU kernels for the TensorFlow backend.

`keras.layers.RNN(GRUCell)` calls the whole cell at every step and lets TensorFlow
differentiate through the loop. The kernels here run the same equations with less machinery:

- ``"bptt"``: a lean forward loop that keeps, per step, the gates ``z`` and ``r``, the
  candidate ``hh`` and the recurrent projection of the candidate, plus a hand-written backward pass through time
  (`tf.custom_gradient`). The backward loop carries ``dh`` through one matmul per step
  (two with ``reset_after=False``) and accumulates the weight gradients as it goes; each
  per-step quantity is computed from values already in cache. Both loops are compiled with XLA
  (`jit_compile=True`), which fuses each step's element-wise work into a few kernels.
  In inference the forward keeps nothing; if a gradient is then asked for, the backward
  recomputes the forward first.
- ``"bptt_graph"``: the same, without XLA.
- ``"autodiff"``: the same lean forward loop, differentiated by TensorFlow.

The per-step input projection ``x_t W`` stays inside the loop: it does not depend on the
state, so it runs off the critical path, and with few input features (D ≪ 3H) projecting all
steps at once beforehand only writes and re-reads a [T, B, 3H] tensor — measured slower here
(docs/gru_benchmark.md).

`fastest_kernel` is what the layer's default `implementation="auto"` runs: the faster of
``"bptt"`` and ``"autodiff"`` for the state size and for training or inference, as measured.

Every kernel takes and returns time-major tensors; the layer (`forecasting.layers.GRU`) handles
batch-major layout, dropout, masking and `go_backwards`. They assume the default activations
(sigmoid gates, tanh candidate); the layer uses the generic cell loop for anything else.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["KERNELS", "fastest_kernel", "gru_sequence"]

# Names accepted by `gru_sequence(kernel_name=...)`.
KERNELS = ("bptt", "bptt_graph", "autodiff")

# Where `implementation="auto"` switches kernels, measured side by side on a 2-core CPU
# (docs/gru_benchmark.md, H = 64, 128, 256). Training always runs "bptt": it was faster than
# keras.layers.GRU at every shape both in graph mode and inside an XLA-compiled training step
# (what model.fit does by default), while TensorFlow's own gradient of the graph loop
# ("autodiff") was slightly faster in graph mode at H = 64 but far slower under XLA.
# Inference: the XLA forward of "bptt" wins while the per-step matmul is small (its fused
# element-wise work dominates) and loses to TensorFlow's own matmul at H = 256.
AUTO_SWITCH_UNITS = 128


def fastest_kernel(units: int, training: bool) -> str:
    """The kernel `implementation="auto"` runs (see the measurements above)."""
    if training:
        return "bptt"
    return "autodiff" if units > AUTO_SWITCH_UNITS else "bptt"


def _steps(x):
    """Number of time steps of a time-major tensor: a Python int when static."""
    return x.shape[0] if x.shape[0] is not None else tf.shape(x)[0]


def _unstack(x, steps):
    """A TensorArray reading x [T, ...] one step at a time."""
    return tf.TensorArray(x.dtype, size=steps, element_shape=x.shape[1:]).unstack(x)


def _loop(body, loop_vars, steps, backwards=False):
    """tf.while_loop over t = 0..T−1 (or back down); returns the loop variables after t."""
    start = steps - 1 if backwards else 0
    start = tf.constant(start) if isinstance(start, int) else start
    cond = (lambda t, *_: t >= 0) if backwards else (lambda t, *_: t < steps)
    return tf.while_loop(
        cond, body, (start, *loop_vars), maximum_iterations=steps, parallel_iterations=32
    )[1:]


# ---------------------------------------------------------------------------------------------
# Forward loops. x_tm [T, B, D], h0 [B, H]; kernel [D, 3H], recurrent_kernel [H, 3H].
# They return the last state and, stacked over T, what `mode` asks for.
# ---------------------------------------------------------------------------------------------

# mode -> {reset_after: number of per-step tensors stacked}
_STACKS = {
    "last": {True: 0, False: 0},  # nothing: only the last state is needed
    "sequence": {True: 1, False: 1},  # hs
    "keep": {True: 5, False: 4},  # hs, z, r, hh (and hp_h = h_tm1 U_h + b_hh with reset_after)
}


def _forward_after(x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, mode, units):
    """reset_after=True. Returns (h_last, *stacks); see `_STACKS` for what `mode` stacks."""
    steps = _steps(x_tm)
    xs = _unstack(x_tm, steps)
    arrays = [tf.TensorArray(x_tm.dtype, size=steps) for _ in range(_STACKS[mode][True])]

    def step(t, h_tm1, *arrays):
        # [B, D] @ [D, 3H] -> [B, 3H]; independent of h_tm1, so off the critical path
        x_proj = tf.matmul(xs.read(t), kernel) + input_bias
        # [B, H] @ [H, 3H] -> [B, 3H]: the three recurrent projections in one matmul
        h_proj = tf.matmul(h_tm1, recurrent_kernel) + recurrent_bias
        x_z, x_r, x_h = tf.split(x_proj, 3, axis=1)
        h_z, h_r, hp_h = tf.split(h_proj, 3, axis=1)
        # z = σ(x W_z + h_tm1 U_z + b_z)
        z = tf.sigmoid(x_z + h_z)
        # r = σ(x W_r + h_tm1 U_r + b_r)
        r = tf.sigmoid(x_r + h_r)
        # hh = tanh(x W_h + b_xh + r ⊙ (h_tm1 U_h + b_hh))
        hh = tf.tanh(x_h + r * hp_h)
        # h = z ⊙ h_tm1 + (1 − z) ⊙ hh
        h = z * h_tm1 + (1.0 - z) * hh
        kept = (h, z, r, hh, hp_h)[: len(arrays)]
        return (t + 1, h, *(a.write(t, v) for a, v in zip(arrays, kept, strict=True)))

    h_last, *arrays = _loop(step, (h0, *arrays), steps)
    return (h_last, *(a.stack() for a in arrays))


def _forward_before(x_tm, h0, kernel, recurrent_kernel, input_bias, mode, units):
    """reset_after=False. Returns (h_last, *stacks); see `_STACKS` for what `mode` stacks."""
    steps = _steps(x_tm)
    xs = _unstack(x_tm, steps)
    arrays = [tf.TensorArray(x_tm.dtype, size=steps) for _ in range(_STACKS[mode][False])]
    u_zr, u_h = tf.split(recurrent_kernel, [2 * units, units], axis=1)

    def step(t, h_tm1, *arrays):
        # [B, D] @ [D, 3H] -> [B, 3H]; off the critical path
        x_proj = tf.matmul(xs.read(t), kernel) + input_bias
        x_z, x_r, x_h = tf.split(x_proj, 3, axis=1)
        # update and reset projections together: [B, H] @ [H, 2H] -> [B, 2H]
        h_z, h_r = tf.split(tf.matmul(h_tm1, u_zr), 2, axis=1)
        # z = σ(x W_z + h_tm1 U_z + b_z)
        z = tf.sigmoid(x_z + h_z)
        # r = σ(x W_r + h_tm1 U_r + b_r)
        r = tf.sigmoid(x_r + h_r)
        # hh = tanh(x W_h + (r ⊙ h_tm1) U_h + b_h): [B, H] @ [H, H] -> [B, H]
        hh = tf.tanh(x_h + tf.matmul(r * h_tm1, u_h))
        # h = z ⊙ h_tm1 + (1 − z) ⊙ hh
        h = z * h_tm1 + (1.0 - z) * hh
        kept = (h, z, r, hh)[: len(arrays)]
        return (t + 1, h, *(a.write(t, v) for a, v in zip(arrays, kept, strict=True)))

    h_last, *arrays = _loop(step, (h0, *arrays), steps)
    return (h_last, *(a.stack() for a in arrays))


# ---------------------------------------------------------------------------------------------
# Backward loops. d_hs [T, B, H] is the gradient reaching every output; h_prev [T, B, H] the
# state each step started from. They return the gradients of x_tm, h0, kernel,
# recurrent_kernel, input_bias and recurrent_bias.
# ---------------------------------------------------------------------------------------------


def _backward_after(d_hs, x_tm, h_prev, z, r, hh, hp_h, kernel, recurrent_kernel, units):
    steps = _steps(d_hs)
    reads = [_unstack(v, steps) for v in (d_hs, x_tm, h_prev, z, r, hh, hp_h)]
    d_xs = tf.TensorArray(d_hs.dtype, size=steps)

    def step(t, carry, d_w, d_u, d_b_in, d_b_rec, d_xs):
        g_t, x_t, h_tm1, z, r, hh_t, hp_t = (a.read(t) for a in reads)
        dh = g_t + carry  # everything that reaches h_t: [B, H]
        dh_z = dh * z  # the part that flows straight to h_tm1
        # through hh = tanh(a_h): d a_h = dh ⊙ (1 − z) ⊙ (1 − hh²)
        d_ah = (dh - dh_z) * (1.0 - hh_t * hh_t)
        # through z = σ(a_z): d a_z = dh ⊙ (h_tm1 − hh) ⊙ z(1 − z)
        d_az = dh * (h_tm1 - hh_t) * z * (1.0 - z)
        # through r = σ(a_r): d a_r = d a_h ⊙ (h_tm1 U_h + b_hh) ⊙ r(1 − r)
        d_ar = d_ah * hp_t * r * (1.0 - r)
        d_h_proj = tf.concat([d_az, d_ar, d_ah * r], axis=1)  # d(h_tm1 U + b_rec): [B, 3H]
        d_x_proj = tf.concat([d_az, d_ar, d_ah], axis=1)  # d(x W + b_in): [B, 3H]
        # dh_tm1 = dh ⊙ z + d_h_proj @ Uᵀ: [B, 3H] @ [3H, H] -> [B, H]
        carry = dh_z + tf.matmul(d_h_proj, recurrent_kernel, transpose_b=True)
        # weight gradients, off the critical path: [H, B] @ [B, 3H], [D, B] @ [B, 3H]
        d_u += tf.matmul(h_tm1, d_h_proj, transpose_a=True)
        d_w += tf.matmul(x_t, d_x_proj, transpose_a=True)
        d_b_in += tf.reduce_sum(d_x_proj, axis=0)
        d_b_rec += tf.reduce_sum(d_h_proj, axis=0)
        # dx = d_x_proj @ Wᵀ: [B, 3H] @ [3H, D] -> [B, D]
        d_xs = d_xs.write(t, tf.matmul(d_x_proj, kernel, transpose_b=True))
        return t - 1, carry, d_w, d_u, d_b_in, d_b_rec, d_xs

    zeros_b = tf.zeros([3 * units], d_hs.dtype)
    d_h0, d_w, d_u, d_b_in, d_b_rec, d_xs = _loop(
        step,
        (tf.zeros_like(d_hs[0]), tf.zeros_like(kernel), tf.zeros_like(recurrent_kernel))
        + (zeros_b, zeros_b, d_xs),
        steps,
        backwards=True,
    )
    return d_xs.stack(), d_h0, d_w, d_u, d_b_in, d_b_rec


def _backward_before(d_hs, x_tm, h_prev, z, r, hh, kernel, recurrent_kernel, units):
    steps = _steps(d_hs)
    reads = [_unstack(v, steps) for v in (d_hs, x_tm, h_prev, z, r, hh)]
    d_xs = tf.TensorArray(d_hs.dtype, size=steps)
    u_zr, u_h = tf.split(recurrent_kernel, [2 * units, units], axis=1)

    def step(t, carry, d_w, d_u_zr, d_u_h, d_b, d_xs):
        g_t, x_t, h_tm1, z, r, hh_t = (a.read(t) for a in reads)
        dh = g_t + carry  # [B, H]
        dh_z = dh * z
        # through hh = tanh(a_h): d a_h = dh ⊙ (1 − z) ⊙ (1 − hh²)
        d_ah = (dh - dh_z) * (1.0 - hh_t * hh_t)
        # gradient w.r.t. r ⊙ h_tm1: [B, H] @ [H, H] -> [B, H]
        d_rh = tf.matmul(d_ah, u_h, transpose_b=True)
        # through z and r = σ(·): d a_z = dh ⊙ (h_tm1 − hh) ⊙ z(1 − z),
        # d a_r = d_rh ⊙ h_tm1 ⊙ r(1 − r)
        d_azr = tf.concat(
            [dh * (h_tm1 - hh_t) * z * (1.0 - z), d_rh * h_tm1 * r * (1.0 - r)], axis=1
        )
        # dh_tm1 = dh ⊙ z + d_rh ⊙ r + d_azr @ U_zrᵀ: [B, 2H] @ [2H, H] -> [B, H]
        carry = dh_z + d_rh * r + tf.matmul(d_azr, u_zr, transpose_b=True)
        d_x_proj = tf.concat([d_azr, d_ah], axis=1)  # [B, 3H]
        d_u_zr += tf.matmul(h_tm1, d_azr, transpose_a=True)  # [H, B] @ [B, 2H]
        d_u_h += tf.matmul(r * h_tm1, d_ah, transpose_a=True)  # [H, B] @ [B, H]
        d_w += tf.matmul(x_t, d_x_proj, transpose_a=True)  # [D, B] @ [B, 3H]
        d_b += tf.reduce_sum(d_x_proj, axis=0)
        d_xs = d_xs.write(t, tf.matmul(d_x_proj, kernel, transpose_b=True))  # [B, D]
        return t - 1, carry, d_w, d_u_zr, d_u_h, d_b, d_xs

    d_h0, d_w, d_u_zr, d_u_h, d_b, d_xs = _loop(
        step,
        (tf.zeros_like(d_hs[0]), tf.zeros_like(kernel), tf.zeros_like(u_zr), tf.zeros_like(u_h))
        + (tf.zeros([3 * units], d_hs.dtype), d_xs),
        steps,
        backwards=True,
    )
    d_u = tf.concat([d_u_zr, d_u_h], axis=1)
    return d_xs.stack(), d_h0, d_w, d_u, d_b, tf.zeros_like(d_b)


def _xla(fn):
    return tf.function(fn, jit_compile=True, reduce_retracing=True, autograph=False)


_STEPS = {
    # kernel name -> (forward after, backward after, forward before, backward before)
    "bptt": tuple(map(_xla, (_forward_after, _backward_after, _forward_before, _backward_before))),
    "bptt_graph": (_forward_after, _backward_after, _forward_before, _backward_before),
}


def _bptt(kernel_name, reset_after, keep, return_sequences, units):
    """A custom-gradient function (x_tm, h0, W, U, b_in, b_rec) -> hs [T, B, H] (or the last
    state [B, H] without `return_sequences`) for one variant."""
    forward_after, backward_after, forward_before, backward_before = _STEPS[kernel_name]

    def forward(x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, mode):
        if reset_after:
            return forward_after(
                x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, mode, units
            )
        return forward_before(x_tm, h0, kernel, recurrent_kernel, input_bias, mode, units)

    @tf.custom_gradient
    def sequence(x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias):
        # The gradient is ours: keep TensorFlow from preparing its own for the loops inside.
        args = tuple(
            tf.stop_gradient(a)
            for a in (x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias)
        )
        mode = "keep" if keep else ("sequence" if return_sequences else "last")
        kept = forward(*args, mode)

        def grad(d_out):
            # In inference nothing was kept: recompute the forward (gradient checkpointing).
            _, hs, *saved = kept if keep else forward(*args, "keep")
            if return_sequences:
                d_hs = d_out
            else:  # only the last state was used: [B, H] -> [T, B, H], zeros before T − 1
                d_hs = tf.pad(d_out[None], [[tf.shape(hs)[0] - 1, 0], [0, 0], [0, 0]])
            h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # state each step started from
            if reset_after:
                return backward_after(d_hs, x_tm, h_prev, *saved, kernel, recurrent_kernel, units)
            return backward_before(d_hs, x_tm, h_prev, *saved, kernel, recurrent_kernel, units)

        return (kept[1] if return_sequences else kept[0]), grad

    return sequence


def _autodiff(x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, reset_after, mode):
    units = recurrent_kernel.shape[0]
    if reset_after:
        out = _forward_after(
            x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, mode, units
        )
    else:
        out = _forward_before(x_tm, h0, kernel, recurrent_kernel, input_bias, mode, units)
    return out[1] if mode == "sequence" else out[0]


def gru_sequence(
    sequences,
    initial_state,
    kernel,
    recurrent_kernel,
    bias,
    *,
    reset_after,
    kernel_name="bptt",
    training=True,
    return_sequences=True,
):
    """Run a GRU over whole sequences with the default activations (sigmoid gates, tanh).

    Args:
        sequences: Float tensor [B, T, D], batch-major.
        initial_state: Float tensor [B, H].
        kernel: [D, 3H] input kernel (z, r, h order, as in Keras).
        recurrent_kernel: [H, 3H] recurrent kernel.
        bias: `None`, [3H] (reset_after=False) or [2, 3H] (reset_after=True).
        reset_after: Which candidate equation to use (see `GRUCell`).
        kernel_name: One of `KERNELS`.
        training: Whether a gradient is likely: the ``bptt`` kernels then keep the per-step
            values their backward pass needs (otherwise they recompute them if asked).
        return_sequences: Whether the states of every step are needed; without them,
            inference keeps nothing per step.

    Returns:
        A tuple `(outputs, last_state)`: outputs [B, T, H] (None without
        `return_sequences`) and last_state [B, H].
    """
    if kernel_name not in KERNELS:
        raise ValueError(f"`kernel_name` must be one of {KERNELS}, received: {kernel_name!r}")
    dtype = sequences.dtype
    kernel = tf.cast(kernel, dtype)
    recurrent_kernel = tf.cast(recurrent_kernel, dtype)
    units = recurrent_kernel.shape[0]
    zeros = tf.zeros([3 * units], dtype)
    if bias is None:
        input_bias, recurrent_bias = zeros, zeros
    elif reset_after:
        input_bias, recurrent_bias = tf.unstack(tf.cast(bias, dtype))
    else:
        input_bias, recurrent_bias = tf.cast(bias, dtype), zeros

    x_tm = tf.transpose(sequences, [1, 0, 2])  # [B, T, D] -> [T, B, D]
    h0 = tf.cast(initial_state, dtype)
    args = (x_tm, h0, kernel, recurrent_kernel, input_bias, recurrent_bias)
    if kernel_name == "autodiff":
        out = _autodiff(*args, reset_after, "sequence" if return_sequences else "last")
    else:
        out = _bptt(kernel_name, reset_after, bool(training), return_sequences, units)(*args)
    if not return_sequences:
        return None, out
    return tf.transpose(out, [1, 0, 2]), out[-1]  # [T, B, H] -> [B, T, H]
