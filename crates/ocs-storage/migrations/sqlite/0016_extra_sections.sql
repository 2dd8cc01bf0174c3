-- Inventory sections the catalogue does not know (an agent plugin's, FusionInventory's ENVS
-- or PROCESSES): each row's fields as a JSON object of texts, in the order the agent sent
-- them. An inventory replaces a computer's rows; they go with the computer.
CREATE TABLE extra_sections (
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    position BIGINT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (hardware_id, section, position)
);
