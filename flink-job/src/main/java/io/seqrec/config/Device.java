package io.seqrec.config;

/** Where inference runs. {@code AUTO} uses a GPU when one is assigned, the CPU otherwise. */
public enum Device {
    AUTO,
    CPU,
    GPU
}
