"""The tutorial's RNN: configuration, weights, forward passes (numpy and TensorFlow), state."""
