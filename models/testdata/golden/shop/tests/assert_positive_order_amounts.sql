-- An order can never have a negative amount.
-- A singular test passes when this query returns no rows.

select
    order_id,
    amount

from "main"."orders"
where amount < 0
