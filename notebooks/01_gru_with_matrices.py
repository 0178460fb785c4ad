# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The GRU with matrices, by hand
#
# This notebook computes a gated recurrent unit (GRU) with nothing but NumPy on a toy
# character task, prints every intermediate matrix, and then checks each number against the
# product's Keras cell `forecasting.layers.GRUCell` loaded with the same weights.
#
# The toy task: read the text `MathMath…` one character at a time and, at every step,
# give a probability for each possible next character.
#
# Notation (rows are the examples of a batch):
#
# | symbol | shape | meaning |
# |---|---|---|
# | `X_t` | B × V | one-hot characters at step t |
# | `H_{t-1}` | B × H | state before step t (zeros at the very start) |
# | `W_z, W_r, W_h` | V × H | input weights of the update gate, reset gate, candidate |
# | `U_z, U_r, U_h` | H × H | recurrent weights of the same three |
# | `b_z, b_r, b_h` | H | biases |
#
# The four equations, in the convention Keras, PyTorch and cuDNN share (Z multiplies the
# old state):
#
# $$Z_t = \sigma(X_t W_z + H_{t-1} U_z + b_z) \qquad R_t = \sigma(X_t W_r + H_{t-1} U_r + b_r)$$
# $$\tilde H_t = \tanh\big(X_t W_h + (R_t \odot H_{t-1})\, U_h + b_h\big)$$
# $$H_t = Z_t \odot H_{t-1} + (1 - Z_t) \odot \tilde H_t$$

# %%
import numpy as np

from forecasting.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # keep TensorFlow's native start-up lines out of the outputs
np.set_printoptions(precision=3, suppress=True)


def show(name, matrix):
    """Print a small matrix with its name and shape."""
    matrix = np.asarray(matrix)
    print(f"{name}   shape {matrix.shape}")
    print(matrix)
    print()


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# %% [markdown]
# ## The text, its vocabulary and one-hot vectors
#
# Four distinct characters make a vocabulary of V = 4, numbered as below. A character becomes
# a one-hot row of length 4: all zeros except a 1 at its number.

# %%
text = "MathMath" * 2
vocab = {"h": 0, "a": 1, "t": 2, "M": 3}
char_of = {i: c for c, i in vocab.items()}
V = len(vocab)

ids = np.array([vocab[c] for c in text])
print(text)
print("encoded:", ids[:8], "...")

one_hot = np.eye(V)[ids]  # [len(text), V]
show("one-hot rows of 'Math'", one_hot[:4])

# %% [markdown]
# ## Batches of 2 sequences of 3 steps
#
# The task predicts the next character, so the inputs are the text without its last
# character and the targets are the text shifted by one. The stream is cut into B = 2 rows
# that run side by side; each batch takes the next S = 3 columns. Row *b* of batch *k + 1*
# continues row *b* of batch *k*, which is what lets a batch start from the last state of the
# previous one.

# %%
B, S, H = 2, 3, 2  # batch size, sequence length, hidden size

inputs, targets = ids[:-1], ids[1:]
row_len = (len(inputs) // (B * S)) * S  # characters per row that fill whole batches
rows_x = inputs[: B * row_len].reshape(B, row_len)
rows_y = targets[: B * row_len].reshape(B, row_len)
batches = [(rows_x[:, k : k + S], rows_y[:, k : k + S]) for k in range(0, row_len, S)]


def as_text(rows):
    return ["".join(char_of[i] for i in row) for row in rows]


for k, (bx, by) in enumerate(batches):
    print(f"batch {k}: inputs {as_text(bx)}  targets {as_text(by)}")

X = np.eye(V)[batches[0][0]]  # batch 0 one-hot: [B, S, V]
print("\nX (batch 0):", X.shape)

# %% [markdown]
# ## Weights
#
# Small random weights with a fixed seed. They are stored the way Keras stores them: the
# three input matrices side by side in a V × 3H kernel (z, r, h order), the three recurrent
# ones in an H × 3H recurrent kernel, one bias of length 3H. Slicing recovers the
# per-gate matrices; each `W` is V × H = 4 × 2 and is shared by every time step.

# %%
rng = np.random.default_rng(7)
kernel = rng.normal(scale=0.8, size=(V, 3 * H)).astype(np.float32)  # [W_z | W_r | W_h]
recurrent_kernel = rng.normal(scale=0.8, size=(H, 3 * H)).astype(np.float32)  # [U_z | U_r | U_h]
bias = rng.normal(scale=0.2, size=3 * H).astype(np.float32)  # [b_z | b_r | b_h]

W_z, W_r, W_h = np.split(kernel, 3, axis=1)
U_z, U_r, U_h = np.split(recurrent_kernel, 3, axis=1)
b_z, b_r, b_h = np.split(bias, 3)
show("W_z", W_z)
show("U_z", U_z)
show("b_z", b_z)

# %% [markdown]
# ## The first step (t = 0) of the first sequence, one equation at a time
#
# At the first step the state is zero, so only the input and the bias count. Because `X_0`
# is one-hot, `X_0 W_z` simply picks the row of `W_z` that belongs to each row's character.

# %%
X_0 = X[:, 0, :]  # [B, V]: 'M' for row 0, 't' for row 1
H_prev = np.zeros((B, H))
show("X_0", X_0)
show("X_0 @ W_z  (rows of W_z picked by the characters)", X_0 @ W_z)

Z = sigmoid(X_0 @ W_z + H_prev @ U_z + b_z)
show("Z_0 = σ(X_0 W_z + H_{-1} U_z + b_z)", Z)

R = sigmoid(X_0 @ W_r + H_prev @ U_r + b_r)
show("R_0 = σ(X_0 W_r + H_{-1} U_r + b_r)", R)

H_tilde = np.tanh(X_0 @ W_h + (R * H_prev) @ U_h + b_h)
show("H~_0 = tanh(X_0 W_h + (R_0 ⊙ H_{-1}) U_h + b_h)", H_tilde)

H_0 = Z * H_prev + (1.0 - Z) * H_tilde
show("H_0 = Z_0 ⊙ H_{-1} + (1 − Z_0) ⊙ H~_0", H_0)


# %% [markdown]
# With a zero previous state, `H_0 = (1 − Z_0) ⊙ H̃_0`: where the update gate is near 1 the
# state stays near its old value (zero here), where it is near 0 it takes the candidate.
#
# ## All three steps
#
# The same four lines in a loop; each step's `H` becomes the next step's `H_{t-1}`.


# %%
def gru_numpy(X, H_start):
    """States and gates of every step: X [B, S, V], H_start [B, H] -> three [B, S, H]."""
    states, zs, rs = [], [], []
    H_t = H_start
    for t in range(X.shape[1]):
        X_t = X[:, t, :]
        Z_t = sigmoid(X_t @ W_z + H_t @ U_z + b_z)
        R_t = sigmoid(X_t @ W_r + H_t @ U_r + b_r)
        H_cand = np.tanh(X_t @ W_h + (R_t * H_t) @ U_h + b_h)
        H_t = Z_t * H_t + (1.0 - Z_t) * H_cand
        states.append(H_t)
        zs.append(Z_t)
        rs.append(R_t)
    return np.stack(states, axis=1), np.stack(zs, axis=1), np.stack(rs, axis=1)


H_seq, Z_seq, R_seq = gru_numpy(X, np.zeros((B, H)))
for t in range(S):
    show(f"H_{t}", H_seq[:, t])
assert np.allclose(H_seq[:, 0], H_0)

# %% [markdown]
# ## The same numbers from `forecasting.layers.GRUCell`
#
# The product's cell takes the same three arrays through `set_weights`. `reset_after=False`
# selects the equations above (the reset gate multiplies the state *before* the recurrent
# matrix). With `return_gates=True` the cell outputs `[h, z, r]` side by side, so the gates
# can be compared too.

# %%
import keras

from forecasting.layers import GRUCell

cell = GRUCell(H, reset_after=False, return_gates=True)
rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
rnn.build((None, S, V))
rnn.set_weights([kernel, recurrent_kernel, bias])

out, h_last = rnn(X.astype(np.float32))  # out: [B, S, 3H] = [h | z | r] at every step
H_k, Z_k, R_k = np.split(np.asarray(out), 3, axis=-1)
show("H from GRUCell", H_k)
np.testing.assert_allclose(H_k, H_seq, atol=1e-6)
np.testing.assert_allclose(Z_k, Z_seq, atol=1e-6)
np.testing.assert_allclose(R_k, R_seq, atol=1e-6)
print("NumPy and GRUCell agree on every H, Z and R.")

# %% [markdown]
# ## Carrying the last state into the next batch
#
# Batch 1 continues the rows of batch 0, so it starts from batch 0's last state instead of
# zeros. Carrying the state this way gives exactly what one pass over the six-character rows
# would give.

# %%
X_next = np.eye(V)[batches[1][0]]
H_carried, _, _ = gru_numpy(X_next, H_seq[:, -1])
show("last state of batch 0 (start of batch 1)", H_seq[:, -1])
show("states of batch 1", H_carried)

out_next, _ = rnn(X_next.astype(np.float32), initial_state=[h_last])
np.testing.assert_allclose(np.split(np.asarray(out_next), 3, axis=-1)[0], H_carried, atol=1e-6)

H_whole, _, _ = gru_numpy(np.eye(V)[rows_x], np.zeros((B, H)))  # both batches in one pass
np.testing.assert_allclose(H_whole[:, S:], H_carried, atol=1e-12)
print("Carried state = one pass over the whole rows, in NumPy and in Keras.")

# %% [markdown]
# ## From states to next-character probabilities
#
# A dense layer maps each state (H = 2) to one score per character (O = V = 4); the softmax
# turns the scores into probabilities. Softmax does not change when the same number is
# subtracted from all scores, so subtracting the largest one first keeps `exp` from
# overflowing and changes nothing else.

# %%
W_y = rng.normal(scale=0.8, size=(H, V))  # [H, O]
b_y = np.zeros(V)


def softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)  # largest score becomes 0
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


logits = H_seq @ W_y + b_y  # [B, S, H] @ [H, O] -> [B, S, O]
P = softmax(logits)
show("scores, first sequence", logits[0])
show("probabilities, first sequence (columns h, a, t, M)", P[0])
assert np.allclose(P.sum(axis=-1), 1.0)
np.testing.assert_allclose(P, np.asarray(keras.ops.softmax(logits, axis=-1)), atol=1e-6)

y = batches[0][1]
p_target = np.take_along_axis(P, y[..., None], axis=-1)[..., 0]  # probability of the true next char
print("cross-entropy per step:\n", -np.log(p_target))
print("loss of the batch (mean over steps and rows):", float(-np.log(p_target).mean()))

big = np.array([1000.0, 999.0, 998.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big) / np.exp(big).sum()
print("\nnaive softmax of [1000, 999, 998]:", naive, "  stable:", softmax(big))

# %% [markdown]
# With untrained weights the probabilities have nothing to do with the text; training would
# adjust all the matrices above so that, after `M`, the probability of `a` approaches 1.
#
# ## The Keras default: `reset_after=True`
#
# Keras (and cuDNN) apply the reset gate *after* the recurrent matrix, with separate input
# and recurrent biases: $\tilde H_t = \tanh(X_t W_h + b_{xh} + R_t \odot (H_{t-1} U_h + b_{hh}))$.
# The bias then has two rows. The product's `GRU` layer uses this variant by default;
# by hand it is one changed line.

# %%
bias2 = rng.normal(scale=0.2, size=(2, 3 * H)).astype(
    np.float32
)  # row 0: input side, row 1: recurrent side
H_t = np.zeros((B, H))
by_hand = []
for t in range(S):
    x_proj = X[:, t, :] @ kernel + bias2[0]  # [B, 3H]
    h_proj = H_t @ recurrent_kernel + bias2[1]  # [B, 3H]
    Z_t = sigmoid(x_proj[:, :H] + h_proj[:, :H])
    R_t = sigmoid(x_proj[:, H : 2 * H] + h_proj[:, H : 2 * H])
    H_cand = np.tanh(x_proj[:, 2 * H :] + R_t * h_proj[:, 2 * H :])  # reset after the matmul
    H_t = Z_t * H_t + (1.0 - Z_t) * H_cand
    by_hand.append(H_t)

after = keras.layers.RNN(GRUCell(H, reset_after=True), return_sequences=True)
after.build((None, S, V))
after.set_weights([kernel, recurrent_kernel, bias2])
np.testing.assert_allclose(
    np.asarray(after(X.astype(np.float32))), np.stack(by_hand, axis=1), atol=1e-6
)
print("reset_after=True matches too.")
