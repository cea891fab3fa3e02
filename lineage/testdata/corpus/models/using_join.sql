select id, o.amount, c.name
from {{ ref('star_exclude') }} o
join {{ source('app', 'customers') }} c using (id)
