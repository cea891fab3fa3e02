select big.customer_id, big.amount
from (select customer_id, amount from {{ source('app', 'orders') }} where amount > 100) as big
