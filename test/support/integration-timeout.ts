// Integration tests wait on a real pipeline (Debezium → Kafka → service → Redis).
jest.setTimeout(120_000);
