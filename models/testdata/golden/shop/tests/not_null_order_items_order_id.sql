select *
from "main"."order_items"
where "order_id" is null
