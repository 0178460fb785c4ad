"""Full-sequence GRU kernels for the TensorFlow backend.

`keras.layers.RNN(GRUCell)` runs the whole cell at every step and lets TensorFlow differentiate
through the loop. These kernels do less work inside the loop:

- the input projection of every time step is one matmul before the loop
  (``[T·B, D] @ [D, 3H]``), and its gradients are one matmul each after the backward loop;
- the recurrent projection of the three gates is one fused matmul per step (reset_after=True);
- ``"bptt"`` replaces TensorFlow's automatic differentiation through the ``tf.while_loop`` with
  a hand-written backward pass through time (``tf.custom_gradient``): the forward keeps the gates,
  the candidate and the recurrent projection of every step; the backward loop only carries
  ``dh`` (a few element-wise ops and one matmul per step) and the weight gradients are single
  large matmuls over all steps after the loop.

Every kernel takes time-major tensors and returns the states of every step; the layer
(`forecasting.layers.GRU`) handles batch-major layout, dropout, masking and `go_backwards`.
They assume the default activations (tanh for the candidate, sigmoid for the gates); the layer
falls back to the generic cell path for anything else.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["KERNELS", "gru_sequence"]

# Names accepted by `gru_sequence(kernel_name=...)`, fastest first (see docs/gru_benchmark.md).
KERNELS = ("bptt", "autodiff")


def _split_bias(bias, units, reset_after, dtype):
    """Return (input_bias [3H], recurrent_bias [3H]) as tensors; zeros where there is none."""
    zeros = tf.zeros([3 * units], dtype=dtype)
    if bias is None:
        return zeros, zeros
    bias = tf.cast(bias, dtype)
    if reset_after:
        return bias[0], bias[1]
    return bias, zeros


def _project_inputs(sequences, kernel, input_bias):
    """Input projections of all steps in one matmul, time-major.

    sequences: [B, T, D] -> returns [T, B, 3H].
    """
    x = tf.transpose(sequences, [1, 0, 2])  # [B, T, D] -> [T, B, D]
    steps, batch = tf.shape(x)[0], tf.shape(x)[1]
    # [T·B, D] @ [D, 3H] -> [T·B, 3H]
    x_proj = tf.matmul(tf.reshape(x, [-1, tf.shape(x)[2]]), kernel) + input_bias
    return tf.reshape(x_proj, [steps, batch, tf.shape(kernel)[1]])


# ---------------------------------------------------------------------------------------------
# "autodiff": pre-projected inputs, a lean loop, TensorFlow differentiates through the loop.
# ---------------------------------------------------------------------------------------------


def _recurrence_autodiff(x_proj, h0, recurrent_kernel, recurrent_bias, reset_after):
    """States of every step, [T, B, H], from x_proj [T, B, 3H] and h0 [B, H]."""
    units = recurrent_kernel.shape[0]
    steps = tf.shape(x_proj)[0]
    xs = tf.TensorArray(x_proj.dtype, size=steps).unstack(x_proj)
    hs = tf.TensorArray(x_proj.dtype, size=steps)
    u_zr = recurrent_kernel[:, : 2 * units]
    u_h = recurrent_kernel[:, 2 * units :]

    def step(t, h_tm1, hs):
        x_t = xs.read(t)  # [B, 3H]
        if reset_after:
            # [B, H] @ [H, 3H] -> [B, 3H]
            h_proj = tf.matmul(h_tm1, recurrent_kernel) + recurrent_bias
            zr = tf.sigmoid(x_t[:, : 2 * units] + h_proj[:, : 2 * units])
            z, r = zr[:, :units], zr[:, units:]
            hh = tf.tanh(x_t[:, 2 * units :] + r * h_proj[:, 2 * units :])
        else:
            # [B, H] @ [H, 2H] -> [B, 2H]
            zr = tf.sigmoid(x_t[:, : 2 * units] + tf.matmul(h_tm1, u_zr))
            z, r = zr[:, :units], zr[:, units:]
            # [B, H] @ [H, H] -> [B, H]
            hh = tf.tanh(x_t[:, 2 * units :] + tf.matmul(r * h_tm1, u_h))
        h = hh + z * (h_tm1 - hh)  # = z ⊙ h_tm1 + (1 − z) ⊙ hh
        return t + 1, h, hs.write(t, h)

    _, _, hs = tf.while_loop(
        lambda t, *_: t < steps, step, (tf.constant(0), h0, hs), maximum_iterations=steps
    )
    return hs.stack()


# ---------------------------------------------------------------------------------------------
# "bptt": the same forward, plus a hand-written backward pass through time.
# ---------------------------------------------------------------------------------------------


def _forward_after(x_proj, h0, recurrent_kernel, recurrent_bias):
    """reset_after=True forward. Returns hs, zr, hh, h_proj_h, each stacked over T."""
    units = recurrent_kernel.shape[0]
    steps = tf.shape(x_proj)[0]
    dtype = x_proj.dtype
    xs = tf.TensorArray(dtype, size=steps).unstack(x_proj)
    arrays = tuple(tf.TensorArray(dtype, size=steps) for _ in range(4))

    def step(t, h_tm1, hs, zrs, hhs, hps):
        x_t = xs.read(t)  # [B, 3H]
        # all three recurrent projections at once: [B, H] @ [H, 3H] -> [B, 3H]
        h_proj = tf.matmul(h_tm1, recurrent_kernel) + recurrent_bias
        # z, r = σ(x W_zr + h_tm1 U_zr + b_zr), side by side: [B, 2H]
        zr = tf.sigmoid(x_t[:, : 2 * units] + h_proj[:, : 2 * units])
        z, r = zr[:, :units], zr[:, units:]
        # hh = tanh(x W_h + b_xh + r ⊙ (h_tm1 U_h + b_hh))
        hp_h = h_proj[:, 2 * units :]
        hh = tf.tanh(x_t[:, 2 * units :] + r * hp_h)
        # h = z ⊙ h_tm1 + (1 − z) ⊙ hh
        h = hh + z * (h_tm1 - hh)
        return t + 1, h, hs.write(t, h), zrs.write(t, zr), hhs.write(t, hh), hps.write(t, hp_h)

    out = tf.while_loop(
        lambda t, *_: t < steps,
        step,
        (tf.constant(0), h0, *arrays),
        maximum_iterations=steps,
    )
    return tuple(a.stack() for a in out[2:])


def _backward_after(d_hs, h_prev, zr, hh, hp_h, recurrent_kernel):
    """Backward pass through time for reset_after=True.

    All inputs are stacked over time, [T, B, ·]. Returns (d_x_proj [T, B, 3H], d_h0 [B, H],
    d_h_proj [T, B, 3H]), where d_h_proj is the gradient w.r.t. h_tm1 U + b_rec at every step.
    """
    units = recurrent_kernel.shape[0]
    steps = tf.shape(d_hs)[0]
    dtype = d_hs.dtype
    z, r = zr[..., :units], zr[..., units:]
    # Element-wise factors that do not depend on the recurrence, for all steps at once:
    # dL/d(pre-activation of z)  = dh ⊙ (h_tm1 − hh) ⊙ z(1 − z)
    a_z = (h_prev - hh) * z * (1.0 - z)
    # dL/d(pre-activation of hh) = dh ⊙ (1 − z) ⊙ (1 − hh²)
    a_h = (1.0 - z) * (1.0 - hh * hh)
    # dL/d(pre-activation of r)  = dh ⊙ a_h ⊙ (h_tm1 U_h + b_hh) ⊙ r(1 − r)
    a_r = a_h * hp_h * r * (1.0 - r)
    coef_rec = tf.concat([a_z, a_r, a_h * r], axis=-1)  # [T, B, 3H]: dh -> d h_proj
    u_t = tf.transpose(recurrent_kernel)  # [3H, H]

    grads_in = tf.TensorArray(dtype, size=steps).unstack(d_hs)
    coefs = tf.TensorArray(dtype, size=steps).unstack(coef_rec)
    zs = tf.TensorArray(dtype, size=steps).unstack(z)
    dhs = tf.TensorArray(dtype, size=steps)

    def step(t, carry, dhs):
        dh = grads_in.read(t) + carry  # total gradient reaching h_t: [B, H]
        d_h_proj = tf.tile(dh, [1, 3]) * coefs.read(t)  # [B, 3H]
        # dh_tm1 = dh ⊙ z + d_h_proj @ Uᵀ: [B, 3H] @ [3H, H] -> [B, H]
        carry = dh * zs.read(t) + tf.matmul(d_h_proj, u_t)
        return t - 1, carry, dhs.write(t, dh)

    _, d_h0, dhs = tf.while_loop(
        lambda t, *_: t >= 0,
        step,
        (steps - 1, tf.zeros_like(d_hs[0]), dhs),
        maximum_iterations=steps,
    )
    dh_all = tf.tile(dhs.stack(), [1, 1, 3])  # [T, B, 3H]
    d_h_proj = dh_all * coef_rec
    d_x_proj = dh_all * tf.concat([a_z, a_r, a_h], axis=-1)
    return d_x_proj, d_h0, d_h_proj


def _forward_before(x_proj, h0, recurrent_kernel):
    """reset_after=False forward. Returns hs, zr, hh, each stacked over T."""
    units = recurrent_kernel.shape[0]
    steps = tf.shape(x_proj)[0]
    dtype = x_proj.dtype
    xs = tf.TensorArray(dtype, size=steps).unstack(x_proj)
    arrays = tuple(tf.TensorArray(dtype, size=steps) for _ in range(3))
    u_zr = recurrent_kernel[:, : 2 * units]
    u_h = recurrent_kernel[:, 2 * units :]

    def step(t, h_tm1, hs, zrs, hhs):
        x_t = xs.read(t)  # [B, 3H]
        # z, r = σ(x W_zr + h_tm1 U_zr + b_zr): [B, H] @ [H, 2H] -> [B, 2H]
        zr = tf.sigmoid(x_t[:, : 2 * units] + tf.matmul(h_tm1, u_zr))
        z, r = zr[:, :units], zr[:, units:]
        # hh = tanh(x W_h + (r ⊙ h_tm1) U_h + b_h): [B, H] @ [H, H] -> [B, H]
        hh = tf.tanh(x_t[:, 2 * units :] + tf.matmul(r * h_tm1, u_h))
        # h = z ⊙ h_tm1 + (1 − z) ⊙ hh
        h = hh + z * (h_tm1 - hh)
        return t + 1, h, hs.write(t, h), zrs.write(t, zr), hhs.write(t, hh)

    out = tf.while_loop(
        lambda t, *_: t < steps,
        step,
        (tf.constant(0), h0, *arrays),
        maximum_iterations=steps,
    )
    return tuple(a.stack() for a in out[2:])


def _backward_before(d_hs, h_prev, zr, hh, recurrent_kernel):
    """Backward pass through time for reset_after=False.

    Returns (d_x_proj [T, B, 3H], d_h0 [B, H], d_zr [T, B, 2H], d_ah [T, B, H]), where d_zr and
    d_ah are the gradients w.r.t. the pre-activations of the gates and of the candidate.
    """
    units = recurrent_kernel.shape[0]
    steps = tf.shape(d_hs)[0]
    dtype = d_hs.dtype
    z, r = zr[..., :units], zr[..., units:]
    a_z = (h_prev - hh) * z * (1.0 - z)  # dh -> d(pre-activation of z)
    a_h = (1.0 - z) * (1.0 - hh * hh)  # dh -> d(pre-activation of hh)
    p_r = h_prev * r * (1.0 - r)  # d(r ⊙ h_tm1) -> d(pre-activation of r)
    u_zr_t = tf.transpose(recurrent_kernel[:, : 2 * units])  # [2H, H]
    u_h_t = tf.transpose(recurrent_kernel[:, 2 * units :])  # [H, H]

    def unstack(x):
        return tf.TensorArray(dtype, size=steps).unstack(x)

    grads_in, a_zs, a_hs, p_rs, zs, rs = map(unstack, (d_hs, a_z, a_h, p_r, z, r))
    dhs = tf.TensorArray(dtype, size=steps)
    d_rhs = tf.TensorArray(dtype, size=steps)

    def step(t, carry, dhs, d_rhs):
        dh = grads_in.read(t) + carry  # [B, H]
        d_ah = dh * a_hs.read(t)
        d_rh = tf.matmul(d_ah, u_h_t)  # gradient w.r.t. r ⊙ h_tm1: [B, H] @ [H, H] -> [B, H]
        d_zr = tf.concat([dh * a_zs.read(t), d_rh * p_rs.read(t)], axis=-1)  # [B, 2H]
        # dh_tm1 = dh ⊙ z + d(r ⊙ h_tm1) ⊙ r + d_zr @ U_zrᵀ: [B, 2H] @ [2H, H] -> [B, H]
        carry = dh * zs.read(t) + d_rh * rs.read(t) + tf.matmul(d_zr, u_zr_t)
        return t - 1, carry, dhs.write(t, dh), d_rhs.write(t, d_rh)

    _, d_h0, dhs, d_rhs = tf.while_loop(
        lambda t, *_: t >= 0,
        step,
        (steps - 1, tf.zeros_like(d_hs[0]), dhs, d_rhs),
        maximum_iterations=steps,
    )
    dh_all = dhs.stack()
    d_ah = dh_all * a_h
    d_zr = tf.concat([dh_all * a_z, d_rhs.stack() * p_r], axis=-1)
    d_x_proj = tf.concat([d_zr, d_ah], axis=-1)
    return d_x_proj, d_h0, d_zr, d_ah


def _flat(x):
    """[T, B, K] -> [T·B, K]."""
    return tf.reshape(x, [-1, tf.shape(x)[-1]])


@tf.custom_gradient
def _recurrence_bptt_after(x_proj, h0, recurrent_kernel, recurrent_bias):
    hs, zr, hh, hp_h = _forward_after(x_proj, h0, recurrent_kernel, recurrent_bias)

    def grad(d_hs):
        h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # h_tm1 of every step: [T, B, H]
        d_x_proj, d_h0, d_h_proj = _backward_after(d_hs, h_prev, zr, hh, hp_h, recurrent_kernel)
        # dU = Σ_t h_tm1ᵀ d_h_proj: [H, T·B] @ [T·B, 3H] -> [H, 3H]
        d_u = tf.matmul(_flat(h_prev), _flat(d_h_proj), transpose_a=True)
        d_b = tf.reduce_sum(d_h_proj, axis=[0, 1])
        return d_x_proj, d_h0, d_u, d_b

    return hs, grad


@tf.custom_gradient
def _recurrence_bptt_before(x_proj, h0, recurrent_kernel):
    hs, zr, hh = _forward_before(x_proj, h0, recurrent_kernel)

    def grad(d_hs):
        units = recurrent_kernel.shape[0]
        h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # [T, B, H]
        d_x_proj, d_h0, d_zr, d_ah = _backward_before(d_hs, h_prev, zr, hh, recurrent_kernel)
        r_h = zr[..., units:] * h_prev
        # dU_zr = Σ_t h_tm1ᵀ d_zr: [H, T·B] @ [T·B, 2H] -> [H, 2H]
        d_u_zr = tf.matmul(_flat(h_prev), _flat(d_zr), transpose_a=True)
        # dU_h = Σ_t (r ⊙ h_tm1)ᵀ d_ah: [H, T·B] @ [T·B, H] -> [H, H]
        d_u_h = tf.matmul(_flat(r_h), _flat(d_ah), transpose_a=True)
        return d_x_proj, d_h0, tf.concat([d_u_zr, d_u_h], axis=1)

    return hs, grad


def gru_sequence(
    sequences, initial_state, kernel, recurrent_kernel, bias, *, reset_after, kernel_name="bptt"
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

    Returns:
        A tuple `(outputs, last_state)`: outputs [B, T, H] and last_state [B, H].
    """
    if kernel_name not in KERNELS:
        raise ValueError(f"`kernel_name` must be one of {KERNELS}, received: {kernel_name!r}")
    dtype = sequences.dtype
    kernel = tf.cast(kernel, dtype)
    recurrent_kernel = tf.cast(recurrent_kernel, dtype)
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = _split_bias(bias, units, reset_after, dtype)

    x_proj = _project_inputs(sequences, kernel, input_bias)  # [T, B, 3H]
    if kernel_name == "autodiff":
        hs = _recurrence_autodiff(
            x_proj, initial_state, recurrent_kernel, recurrent_bias, reset_after
        )
    elif reset_after:
        hs = _recurrence_bptt_after(x_proj, initial_state, recurrent_kernel, recurrent_bias)
    else:
        hs = _recurrence_bptt_before(x_proj, initial_state, recurrent_kernel)
    outputs = tf.transpose(hs, [1, 0, 2])  # [T, B, H] -> [B, T, H]
    return outputs, hs[-1]
