-- Least-privilege CDC user for Debezium (docker-compose); the local stack grants the same.
-- Verified minimum on MariaDB 10.11: RELOAD, REPLICATION SLAVE, REPLICATION CLIENT (= BINLOG MONITOR)
-- on *.*, SELECT on the followed database.
CREATE USER IF NOT EXISTS 'cdc'@'%' IDENTIFIED BY 'cdc';
GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%';
GRANT SELECT ON mis.* TO 'cdc'@'%';
FLUSH PRIVILEGES;
