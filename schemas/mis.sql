-- Reference MIS v2 schema (MariaDB 10.11 / MySQL 8, utf8mb4) with seed data.
-- Source of truth: shared/spec/cache-strategy.md, "Reference MIS schema".
-- Idempotent: drops and recreates every table, so loading it again resets the data.
-- Loaded by scripts/stack.sh into database `mis` (STACK_RESEED=1 reloads it).
-- No foreign keys on purpose: tests may insert/delete rows in any order.

SET NAMES utf8mb4;
SET time_zone = '+00:00';

DROP TABLE IF EXISTS serials;
DROP TABLE IF EXISTS trade_orders;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS user_auth;
DROP TABLE IF EXISTS menus;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS brands;
DROP TABLE IF EXISTS departments;

CREATE TABLE departments (
  dept_id     INT          NOT NULL AUTO_INCREMENT,
  dept_name   VARCHAR(100) NOT NULL,
  sort        INT          NOT NULL DEFAULT 0,
  use_yn      CHAR(1)      NOT NULL DEFAULT 'Y',
  updated_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (dept_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE brands (
  brand_id    INT          NOT NULL AUTO_INCREMENT,
  brand_name  VARCHAR(100) NOT NULL,
  brand_code  VARCHAR(20)  NOT NULL,
  sort        INT          NOT NULL DEFAULT 0,
  use_yn      CHAR(1)      NOT NULL DEFAULT 'Y',
  updated_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (brand_id),
  UNIQUE KEY uk_brands_code (brand_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  user_id     INT          NOT NULL AUTO_INCREMENT,
  username    VARCHAR(50)  NOT NULL,
  dept_id     INT          NULL,
  use_yn      CHAR(1)      NOT NULL DEFAULT 'Y',
  updated_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (user_id),
  UNIQUE KEY uk_users_username (username),
  KEY ix_users_dept (dept_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE menus (
  menu_id     INT          NOT NULL AUTO_INCREMENT,
  code        VARCHAR(50)  NOT NULL,
  name        VARCHAR(100) NOT NULL,
  sort        INT          NOT NULL DEFAULT 0,
  use_yn      CHAR(1)      NOT NULL DEFAULT 'Y',
  PRIMARY KEY (menu_id),
  UNIQUE KEY uk_menus_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_auth (
  auth_id     INT          NOT NULL AUTO_INCREMENT,
  user_id     INT          NOT NULL,
  menu_id     INT          NOT NULL,
  create_yn   CHAR(1)      NOT NULL DEFAULT 'N',
  read_yn     CHAR(1)      NOT NULL DEFAULT 'Y',
  update_yn   CHAR(1)      NOT NULL DEFAULT 'N',
  delete_yn   CHAR(1)      NOT NULL DEFAULT 'N',
  use_yn      CHAR(1)      NOT NULL DEFAULT 'Y',
  PRIMARY KEY (auth_id),
  UNIQUE KEY uk_user_auth_user_menu (user_id, menu_id),
  KEY ix_user_auth_menu (menu_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
  product_id   INT          NOT NULL AUTO_INCREMENT,
  category_id  INT          NOT NULL,
  brand_id     INT          NOT NULL,
  product_name VARCHAR(200) NOT NULL,
  use_yn       CHAR(1)      NOT NULL DEFAULT 'Y',
  updated_at   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (product_id),
  KEY ix_products_category (category_id),
  KEY ix_products_brand (brand_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE trade_orders (
  order_id    BIGINT        NOT NULL AUTO_INCREMENT,
  order_no    VARCHAR(30)   NOT NULL,
  order_date  DATE          NOT NULL,
  brand_id    INT           NOT NULL,
  channel     VARCHAR(30)   NOT NULL,
  amount      DECIMAL(15,2) NOT NULL DEFAULT 0.00,
  status      VARCHAR(20)   NOT NULL DEFAULT 'ORDERED',
  updated_at  DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (order_id),
  UNIQUE KEY uk_trade_orders_no (order_no),
  KEY ix_trade_orders_date (order_date),
  KEY ix_trade_orders_brand (brand_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE serials (
  serial_id    BIGINT       NOT NULL AUTO_INCREMENT,
  serial_no    VARCHAR(50)  NOT NULL,
  brand_code   VARCHAR(20)  NOT NULL,
  product_id   INT          NOT NULL,
  created_date DATE         NOT NULL,
  created_at   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (serial_id),
  UNIQUE KEY uk_serials_no (serial_no),
  KEY ix_serials_brand_date (brand_code, created_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------------------------------------------------- seed data
INSERT INTO departments (dept_id, dept_name, sort, use_yn, updated_at) VALUES
  (1, '시스템관리', 1, 'Y', '2024-01-01 09:00:00'),
  (2, '영업본부',   2, 'Y', '2024-01-01 09:00:00'),
  (3, '무역팀',     3, 'Y', '2024-01-01 09:00:00');

INSERT INTO brands (brand_id, brand_name, brand_code, sort, use_yn, updated_at) VALUES
  (1, '리안', 'REAN', 1, 'Y', '2024-01-01 09:00:00'),
  (2, '조이', 'JOY',  2, 'Y', '2024-01-01 09:00:00'),
  (3, '뉴나', 'NUNA', 3, 'Y', '2024-01-01 09:00:00');

INSERT INTO users (user_id, username, dept_id, use_yn, updated_at) VALUES
  (1, 'admin',   1, 'Y', '2024-01-01 09:00:00'),
  (2, 'sales01', 2, 'Y', '2024-01-01 09:00:00'),
  (3, 'trade01', 3, 'Y', '2024-01-01 09:00:00');

INSERT INTO menus (menu_id, code, name, sort, use_yn) VALUES
  (1, 'admin_user',    '사용자관리', 1, 'Y'),
  (2, 'trade_order',   '무역주문',   2, 'Y'),
  (3, 'customer_info', '고객정보',   3, 'Y');

INSERT INTO user_auth (auth_id, user_id, menu_id, create_yn, read_yn, update_yn, delete_yn, use_yn) VALUES
  (1, 1, 1, 'Y', 'Y', 'Y', 'Y', 'Y'),
  (2, 1, 2, 'Y', 'Y', 'Y', 'Y', 'Y'),
  (3, 1, 3, 'Y', 'Y', 'Y', 'Y', 'Y'),
  (4, 2, 2, 'Y', 'Y', 'Y', 'N', 'Y'),
  (5, 2, 3, 'N', 'Y', 'N', 'N', 'Y'),
  (6, 3, 2, 'Y', 'Y', 'Y', 'N', 'Y');

INSERT INTO products (product_id, category_id, brand_id, product_name, use_yn, updated_at) VALUES
  (1, 1, 1, '리안 솔로 유모차',   'Y', '2024-01-01 09:00:00'),
  (2, 2, 1, '리안 카시트',        'Y', '2024-01-01 09:00:00'),
  (3, 1, 2, '조이 라이트트랙스',  'Y', '2024-01-01 09:00:00'),
  (4, 2, 3, '뉴나 파이파 카시트', 'Y', '2024-01-01 09:00:00');

INSERT INTO trade_orders (order_id, order_no, order_date, brand_id, channel, amount, status, updated_at) VALUES
  (1, 'TO-20240101-0001', '2024-01-01', 1, 'ONLINE',  1250000.00, 'ORDERED', '2024-01-01 10:00:00'),
  (2, 'TO-20240101-0002', '2024-01-01', 2, 'OFFLINE',  389000.50, 'SHIPPED', '2024-01-01 11:30:00'),
  (3, 'TO-20240102-0001', '2024-01-02', 3, 'EXPORT',  9800000.00, 'ORDERED', '2024-01-02 09:15:00');

INSERT INTO serials (serial_id, serial_no, brand_code, product_id, created_date, created_at) VALUES
  (1, 'REAN-20240101-000001', 'REAN', 1, '2024-01-01', '2024-01-01 10:00:00'),
  (2, 'REAN-20240101-000002', 'REAN', 2, '2024-01-01', '2024-01-01 10:05:00'),
  (3, 'NUNA-20240102-000001', 'NUNA', 4, '2024-01-02', '2024-01-02 09:20:00');
