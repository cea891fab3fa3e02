-- One row per country: how many adults live there and their average age.
-- Who counts as an adult comes from the variable min_age in strata.yml.

{{ config(materialized='table') }}

select
    country_code,
    count(*) as number_of_people,
    round(avg(age), 1) as average_age

from {{ ref('stg_people') }}
where age >= {{ var('min_age') }}
group by country_code
