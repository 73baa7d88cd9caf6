package io.seqrec.registry;

/**
 * A registry request refused for the registry's state (a version that exists already, or is not
 * there; no canary to promote; nothing to roll back), or a pointer document that cannot be read as
 * one. The message names the registry and the problem. Failures to reach the storage are {@link
 * java.io.UncheckedIOException}s; a refused model is a {@link
 * io.seqrec.model.ModelContractException}.
 */
public final class RegistryException extends RuntimeException {
    public RegistryException(String message) {
        super(message);
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }
}
