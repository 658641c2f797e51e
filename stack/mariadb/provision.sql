CREATE DATABASE IF NOT EXISTS mis CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
-- Debezium: least privilege verified on MariaDB 10.11 with Debezium 3.4 (stack/README.md):
--   SELECT on mis only (snapshot), RELOAD (FLUSH TABLES WITH READ LOCK during the snapshot;
--   without it Debezium wants LOCK TABLES), REPLICATION SLAVE (binlog dump),
--   REPLICATION CLIENT (= BINLOG MONITOR on 10.5+: SHOW MASTER STATUS / SHOW BINARY LOGS).
--   SHOW DATABASES is not needed. Recreated on every `up` so the grant set is exactly this.
DROP USER IF EXISTS 'cdc'@'%';
CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc';
GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%';
GRANT SELECT ON `mis`.* TO 'cdc'@'%';
-- Debezium's signal table (signal.data.collection): `rebuild --snapshot` inserts an
-- execute-snapshot signal; the connector writes its incremental-snapshot watermarks here, so
-- cdc needs INSERT and DELETE on this one table (nothing else of mis is writable for it).
CREATE TABLE IF NOT EXISTS `mis`.`debezium_signal` (
  id VARCHAR(64) PRIMARY KEY,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(2048) NULL
);
GRANT INSERT, DELETE ON `mis`.`debezium_signal` TO 'cdc'@'%';
-- service and tests: everything on mis (and on mis_* scratch databases)
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app';
CREATE USER IF NOT EXISTS 'app'@'localhost' IDENTIFIED BY 'app';
GRANT ALL PRIVILEGES ON `mis`.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON `mis`.* TO 'app'@'localhost';
GRANT ALL PRIVILEGES ON `mis\_%`.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON `mis\_%`.* TO 'app'@'localhost';
FLUSH PRIVILEGES;
