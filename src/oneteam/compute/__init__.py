"""Compute: pools of compute, the executors that run jobs on them (local sandbox, Slurm), usage."""
