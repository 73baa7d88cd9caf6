package io.seqrec.cli;

/** A command-line mistake: printed as one line with a hint, exit status 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
