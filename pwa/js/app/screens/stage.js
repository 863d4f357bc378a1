// A card's lifecycle stage (issue 17): shown on the card and set by hand, offline too, like any
// edit. The rules (sync/office/stages.py) move it on later only when something new happens.
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { STAGES } from "./cards.js";
import { problemText } from "./field.js";

export function stageField(app, cardId, view) {
  return h("div", { class: "field stage-field" },
    h("label", { for: "card-stage" }, t("field.stage.label")),
    h("select", { id: "card-stage", onchange: async (e) => {
      const stage = e.target.value || null;
      try {
        await app.device.editCard(cardId, { stage });
        app.say(stage ? t("field.stage.set", { stage: t(`field.stage.${stage}`) }) : t("field.stage.cleared"));
        await app.saved();
        document.getElementById("card-stage")?.focus();
      } catch (error) {
        app.say(problemText(error));
      }
    } },
    h("option", { value: "", selected: !view.stage }, t("field.stage.none")),
    STAGES.map((s) => h("option", { value: s, selected: view.stage === s }, t(`field.stage.${s}`)))),
    h("p", { class: "hint" }, t("field.stage.hint")));
}
