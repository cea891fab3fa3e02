-- A view over the raw_people seed, with clearer column names.

select
    id as person_id,
    first_name,
    last_name,
    age,
    country as country_code

from {{ ref('raw_people') }}
