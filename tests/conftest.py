"""Shared pytest setup: one thread per test process keeps the suite fast and deterministic."""

import torch

torch.set_num_threads(1)
