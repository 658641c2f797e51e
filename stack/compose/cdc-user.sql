-- Least-privilege CDC user for Debezium (docker-compose); the local stack grants the same.
-- Verified minimum on MariaDB 10.11: RELOAD, REPLICATION SLAVE, REPLICATION CLIENT (= BINLOG MONITOR)
-- on *.*, SELECT on the followed database.
CREATE USER IF NOT EXISTS 'cdc'@'%' IDENTIFIED BY 'cdc';
GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%';
GRANT SELECT ON mis.* TO 'cdc'@'%';
-- the signal table of incremental snapshots (stack/mariadb/provision.sql says why)
CREATE TABLE IF NOT EXISTS mis.debezium_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL);
GRANT INSERT, DELETE ON mis.debezium_signal TO 'cdc'@'%';
FLUSH PRIVILEGES;
