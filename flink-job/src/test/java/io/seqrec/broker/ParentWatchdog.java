package io.seqrec.broker;

import java.io.IOException;

/**
 * For the main class of a child JVM started by a test ({@link KafkaBrokerProcess}, the S3 server):
 * halts the child when the parent's end of its standard input closes, so that a killed test JVM
 * leaves no server behind holding ports and CPU.
 */
public final class ParentWatchdog {
    private ParentWatchdog() {}

    public static void start() {
        Thread watchdog =
                new Thread(
                        () -> {
                            try {
                                while (System.in.read() != -1) {
                                    // the parent never writes; only end-of-stream matters
                                }
                            } catch (IOException e) {
                                // a broken pipe means the same as end-of-stream
                            }
                            Runtime.getRuntime().halt(1);
                        },
                        "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
