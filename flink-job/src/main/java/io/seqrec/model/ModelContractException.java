package io.seqrec.model;

/** A model artifact that breaks the contract; the message names the file and the mismatch. */
public final class ModelContractException extends RuntimeException {
    public ModelContractException(String message) {
        super(message);
    }

    public ModelContractException(String message, Throwable cause) {
        super(message, cause);
    }
}
