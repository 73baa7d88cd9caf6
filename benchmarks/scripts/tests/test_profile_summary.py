"""profile_summary.py: which component a stack is charged to, and the totals it prints."""

import importlib.util
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "profile_summary.py"
spec = importlib.util.spec_from_file_location("profile_summary", SCRIPT)
profile_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(profile_summary)

TASK = "recommend -> recommendations: Writer (N/N)#N"


def charged(thread, *frames):
    return profile_summary.component(thread, list(frames))


def test_inference_wins_over_the_operator_that_calls_it():
    assert charged(
        TASK,
        "org/apache/flink/streaming/runtime/tasks/StreamTask.processInput",
        "io/seqrec/pipeline/RecommendOperator.process",
        "ai/djl/onnxruntime/engine/OrtPredictor.predict",
        "/tmp/x/libonnxruntime.so",
    ).startswith("inference")


def test_state_serializers_count_as_state():
    assert charged(
        TASK,
        "io/seqrec/pipeline/RecommendOperator.writeStates",
        "org/apache/flink/state/rocksdb/RocksDBValueState.update",
        "org/apache/flink/api/common/typeutils/base/array/IntPrimitiveArraySerializer.serialize",
    ).startswith("keyed state")


def test_deepest_recognised_frame_decides():
    # JSON written inside the Kafka sink's writer is JSON, the producer's send is Kafka.
    assert charged(
        TASK,
        "org/apache/flink/connector/kafka/sink/KafkaWriter.write",
        "io/seqrec/kafka/RecommendationSerializer.serialize",
        "com/fasterxml/jackson/core/json/UTF8JsonGenerator.writeString",
    ).startswith("JSON")
    assert charged(
        TASK,
        "org/apache/flink/connector/kafka/sink/KafkaWriter.write",
        "org/apache/kafka/clients/producer/KafkaProducer.send",
        "LZ4_compress_fast_extState",
    ) == "Kafka clients"


def test_broker_frames_and_thread_fallbacks():
    assert charged(
        "data-plane-kafka-request-handler-N",
        "kafka/server/KafkaRequestHandler.run",
        "org/apache/kafka/common/record/MemoryRecords.writeFullyTo",
    ).startswith("Kafka broker")
    assert charged("GC Thread#N", "G1ParTask::work") == "GC"
    assert charged("C2 CompilerThreN", "Compile::Compile") == "JIT"
    assert charged("VM Thread", "SafepointSynchronize::begin").startswith("other")


def test_totals_and_per_event_figures(tmp_path):
    profile = tmp_path / "p.collapsed"
    profile.write_text(
        f"[{TASK.replace('N/N)#N', '1/2)#0')} tid=11];io/seqrec/pipeline/RecommendOperator.process;"
        "/x/libonnxruntime.so 300\n"
        "[data-plane-kafka-network-thread-1-CLIENT-PLAINTEXT-0 tid=12];"
        "kafka/network/SocketServer$Processor.run 100\n"
    )
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(profile), "--events", "1000", "--interval-ms", "5"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "2.00 s of CPU in 400 samples" in out
    # 300 samples x 5 ms = 1.5 s over 1000 events = 1500 us each, 75 % of the CPU
    assert "1.50 s  75.0 %   1500.0 us/event  inference (ONNX Runtime, DJL)" in out
    assert "0.50 s  25.0 %    500.0 us/event  Kafka broker (in-process)" in out
    assert "recommend -> recommendations: Writer (N/N)#N" in out
