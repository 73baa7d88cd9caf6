package io.seqrec.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Tiny ONNX models written byte by byte (the protobuf wire format of {@code onnx.proto}), for tests
 * that need a graph ONNX Runtime loads but the job must refuse. No ONNX library is needed.
 */
final class OnnxGraphs {
    static final int FLOAT = 1;
    static final int INT64 = 7;

    private OnnxGraphs() {}

    /**
     * A model whose single input {@code name} (element type {@code elemType}, one symbolic
     * dimension per entry of {@code dims}) is passed through an Identity node to the output {@code
     * scores}.
     */
    static byte[] identity(String name, int elemType, String... dims) {
        Proto node =
                new Proto()
                        .string(1, name) // input
                        .string(2, "scores") // output
                        .string(3, "identity") // name
                        .string(4, "Identity"); // op_type
        Proto graph =
                new Proto()
                        .message(1, node)
                        .string(2, "test-graph")
                        .message(11, valueInfo(name, elemType, dims))
                        .message(12, valueInfo("scores", elemType, dims));
        return new Proto()
                .varint(1, 8) // ir_version
                .message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, 17)) // opset_import
                .bytes();
    }

    private static Proto valueInfo(String name, int elemType, String... dims) {
        Proto shape = new Proto();
        for (String dim : dims) {
            shape.message(1, new Proto().string(2, dim)); // dim { dim_param }
        }
        Proto tensor = new Proto().varint(1, elemType).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
    }

    /** Protobuf encoding: varint and length-delimited fields, enough for the messages above. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            writeVarint((long) field << 3);
            writeVarint(value);
            return this;
        }

        Proto string(int field, String value) {
            return lengthDelimited(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto message) {
            return lengthDelimited(field, message.bytes());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private Proto lengthDelimited(int field, byte[] value) {
            writeVarint(((long) field << 3) | 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        private void writeVarint(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
