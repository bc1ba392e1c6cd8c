-- The per-customer limit sums what a buyer holds of a drop (pending and paid
-- orders) on every order request. This index answers that sum by itself
-- (covering: no table row is read) and holds only orders that hold stock,
-- so the sum stays cheap however many orders a buyer has placed and let
-- expire. It replaces the plain (drop_id, account_id) index.
DROP INDEX orders_by_buyer_of_drop;
CREATE INDEX orders_held ON orders (drop_id, account_id, status, quantity) WHERE status IN ('pending', 'paid');
