-- A legal representative sees on /account who acted for their company
-- (REPRESENTATION_CHOSEN events, details.enterprise = the enterprise code):
-- read by that code, newest first, without scanning the trail.
CREATE INDEX audit_events_enterprise_acts ON audit_events ((details->>'enterprise'), seq DESC) WHERE event = 'REPRESENTATION_CHOSEN';
