"""Order entry (CEMO and beyond): the order document and its versions, the validation rules that refuse
incomplete, inconsistent or unlawful orders, the draft -> submitted -> accepted/rejected -> active -> ended
lifecycle, variations and their diffs, duplicate-person detection, bulk import of court results, and the
events other capabilities react to (`OrderSubmitted`, `OrderAccepted`, `OrderRejected`, `OrderVaried`,
`OrderEnded`). Pure rules over plain data; persistence sits behind `service.OrderRepository`.
"""
