package io.seqrec.config;

/** Invalid configuration: the message names the option and what is wrong with its value. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
