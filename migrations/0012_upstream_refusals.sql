-- Why nixa refused a source's answer for a sign-in (the source could not confirm
-- the level asked, or a fresh enough authentication): the chooser then does not
-- send the citizen to that source again in the same sign-in, which would only
-- repeat the refusal (or, before this, loop through the step-up chooser).
ALTER TABLE upstream_logins ADD COLUMN refused_for text;
CREATE INDEX upstream_logins_refused ON upstream_logins (interaction_uid) WHERE refused_for IS NOT NULL;
