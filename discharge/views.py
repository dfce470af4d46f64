def site_overview(request): ...


board = board_print = board_summary_partial = row = row_ctr = row_edd = row_pathway = row_delay = (
    row_discharge
) = patient_detail = site_overview
