select o.id, t.tag
from {{ source('app', 'orders') }} o, unnest(o.tags) as t(tag)
