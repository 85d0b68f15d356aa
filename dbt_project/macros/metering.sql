{#- Site-local time for the metering models, cheap on hundreds of millions of readings: a zone
    without daylight saving (int_metering_settings.has_dst false) is a fixed offset, added as
    microseconds; a zone with daylight saving goes through the time-zone database per value.
    `settings` is the alias of a relation with timezone, has_dst and utc_offset_us. -#}

{% macro metering_to_local(ts_utc, settings) -%}
    case
        when {{ settings }}.has_dst then timezone({{ settings }}.timezone, {{ ts_utc }})
        else make_timestamp(epoch_us({{ ts_utc }}) + {{ settings }}.utc_offset_us)
    end
{%- endmacro %}

{% macro metering_to_utc(ts_local, settings) -%}
    case
        when {{ settings }}.has_dst then timezone({{ settings }}.timezone, {{ ts_local }})
        else make_timestamptz(epoch_us({{ ts_local }}) - {{ settings }}.utc_offset_us)
    end
{%- endmacro %}
