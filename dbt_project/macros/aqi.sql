{#- US EPA Air Quality Index breakpoints for 24-hour PM10 and PM2.5, as rows (edition, pollutant,
    conc_lo, conc_hi, aqi_lo, aqi_hi, category). Concentrations in ug/m3: PM2.5 to 0.1, PM10 to
    1 (the precision averages are truncated to before the lookup).
    - us_epa_2024: Technical Assistance Document for the Reporting of Daily Air Quality - the Air
      Quality Index (AQI), EPA-454/B-24-002, May 2024, Table 6; in force from 6 May 2024 (PM NAAQS
      reconsideration, 89 FR 16202). PM2.5 Good ends at 9.0; Hazardous is one band, AQI 301-500.
    - us_epa_2018: the same document, EPA-454/B-18-007, September 2018, Table 5 (superseded). -#}
{% macro aqi_breakpoints() -%}
    select * from (
        values
        ('us_epa_2024', 'pm25', 0.0, 9.0, 0, 50, 'Good'),
        ('us_epa_2024', 'pm25', 9.1, 35.4, 51, 100, 'Moderate'),
        ('us_epa_2024', 'pm25', 35.5, 55.4, 101, 150, 'Unhealthy for Sensitive Groups'),
        ('us_epa_2024', 'pm25', 55.5, 125.4, 151, 200, 'Unhealthy'),
        ('us_epa_2024', 'pm25', 125.5, 225.4, 201, 300, 'Very Unhealthy'),
        ('us_epa_2024', 'pm25', 225.5, 325.4, 301, 500, 'Hazardous'),
        ('us_epa_2024', 'pm10', 0.0, 54.0, 0, 50, 'Good'),
        ('us_epa_2024', 'pm10', 55.0, 154.0, 51, 100, 'Moderate'),
        ('us_epa_2024', 'pm10', 155.0, 254.0, 101, 150, 'Unhealthy for Sensitive Groups'),
        ('us_epa_2024', 'pm10', 255.0, 354.0, 151, 200, 'Unhealthy'),
        ('us_epa_2024', 'pm10', 355.0, 424.0, 201, 300, 'Very Unhealthy'),
        ('us_epa_2024', 'pm10', 425.0, 604.0, 301, 500, 'Hazardous'),
        ('us_epa_2018', 'pm25', 0.0, 12.0, 0, 50, 'Good'),
        ('us_epa_2018', 'pm25', 12.1, 35.4, 51, 100, 'Moderate'),
        ('us_epa_2018', 'pm25', 35.5, 55.4, 101, 150, 'Unhealthy for Sensitive Groups'),
        ('us_epa_2018', 'pm25', 55.5, 150.4, 151, 200, 'Unhealthy'),
        ('us_epa_2018', 'pm25', 150.5, 250.4, 201, 300, 'Very Unhealthy'),
        ('us_epa_2018', 'pm25', 250.5, 350.4, 301, 400, 'Hazardous'),
        ('us_epa_2018', 'pm25', 350.5, 500.4, 401, 500, 'Hazardous'),
        ('us_epa_2018', 'pm10', 0.0, 54.0, 0, 50, 'Good'),
        ('us_epa_2018', 'pm10', 55.0, 154.0, 51, 100, 'Moderate'),
        ('us_epa_2018', 'pm10', 155.0, 254.0, 101, 150, 'Unhealthy for Sensitive Groups'),
        ('us_epa_2018', 'pm10', 255.0, 354.0, 151, 200, 'Unhealthy'),
        ('us_epa_2018', 'pm10', 355.0, 424.0, 201, 300, 'Very Unhealthy'),
        ('us_epa_2018', 'pm10', 425.0, 504.0, 301, 400, 'Hazardous'),
        ('us_epa_2018', 'pm10', 505.0, 604.0, 401, 500, 'Hazardous')
    ) as breakpoints (edition, pollutant, conc_lo, conc_hi, aqi_lo, aqi_hi, category)
{%- endmacro %}

{#- A 24-hour average truncated (never rounded) to the breakpoint table's precision: PM2.5 to
    0.1 ug/m3, PM10 to 1 ug/m3. The 1e-9 keeps a product such as 35.9 x 10 = 358.99999... on 359. -#}
{% macro aqi_truncate(value, pollutant) -%}
    {%- if pollutant == 'pm25' -%}
        floor({{ value }} * 10 + 1e-9) / 10
    {%- else -%}
        floor({{ value }} + 1e-9)
    {%- endif -%}
{%- endmacro %}
