-- workload.sql - an sqlite3 workload for the malloc preload (check.py, bench.py).
--
-- Run as `sqlite3 :memory: < workload.sql`: the database, its page cache
-- and every statement live in malloc'd memory.  Creates tables, inserts
-- tens of thousands of rows, builds indexes, then joins, groups and sorts.
-- Deterministic (no random(), ties broken in ORDER BY), so two runs (glibc's
-- malloc, then ours) must print the same text.

CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT, since INTEGER);
CREATE TABLE product(id INTEGER PRIMARY KEY, title TEXT, price REAL, kind TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, product INTEGER,
                    qty INTEGER, day INTEGER, note TEXT);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO customer
SELECT i, 'customer-' || i, 'city-' || (i * 7919 % 97), 2000 + i % 25 FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO product
SELECT i, printf('product %05d %s', i, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26)),
       (i * 37 % 1000) / 10.0, 'kind-' || (i % 13) FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000)
INSERT INTO orders
SELECT i, 1 + (i * i + i / 3) % 20000, 1 + (i * 7727) % 5000, 1 + i % 9, i % 365,
       hex(zeroblob(i % 40)) FROM n;

CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_product ON orders(product, day);
CREATE INDEX customer_city ON customer(city);

-- Revenue by city: a three-way join, grouped and sorted.
SELECT c.city, count(*), sum(o.qty), round(sum(o.qty * p.price), 2)
FROM orders o JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product
GROUP BY c.city ORDER BY 4 DESC, 1 LIMIT 10;

-- The best customers, with a correlated subquery per row.
SELECT c.name, (SELECT count(*) FROM orders o WHERE o.customer = c.id) AS n
FROM customer c ORDER BY n DESC, c.id LIMIT 10;

-- Products by kind and season, through the product/day index.
SELECT p.kind, o.day / 91 AS season, count(*), max(o.qty)
FROM product p JOIN orders o ON o.product = p.id
GROUP BY 1, 2 ORDER BY 1, 2;

-- Change and delete rows, then check the totals again.
UPDATE orders SET qty = qty + 1, note = note || 'x' WHERE day % 10 = 3;
DELETE FROM orders WHERE customer % 17 = 0;
SELECT count(*), sum(qty), sum(length(note)) FROM orders;

-- A sort of many long strings.
SELECT group_concat(name, ',') FROM (SELECT name FROM customer ORDER BY city, name DESC LIMIT 2000 OFFSET 5000);
SELECT count(DISTINCT city), min(name), max(name) FROM customer;
