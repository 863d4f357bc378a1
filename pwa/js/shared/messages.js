// The server's messages are English (the API's contract); the ones people meet in forms, the
// pending page and imports are shown in Chinese when the app speaks Chinese. Unknown messages
// stay as they are: an English sentence beats none.
import { language } from "./i18n.js";

const ZH = [
  [/^required$/, "必填"],
  [/^required: at least 1 character$/, "必填，至少 1 个字符"],
  [/^required for a new card$/, "新建客户卡片时必填"],
  [/^not a date: (.+?)(?: \(write YYYY-MM-DD\))?$/, "不是有效日期：$1（请写成 YYYY-MM-DD）"],
  [/^'(.+)' is not a valid phone number for region (\w+)$/, "“$1”不是有效的电话号码（默认地区 $2）"],
  [/^'(.+)' is not a valid email address$/, "“$1”不是有效的邮箱地址"],
  [/^at most (\d+) characters \(this has (\d+)\)$/, "最多 $1 个字符（现在有 $2 个）"],
  [/^at most (\d+) characters$/, "最多 $1 个字符"],
  [/^at most (\d+) phones \(this has (\d+)\)$/, "最多 $1 个电话（现在有 $2 个）"],
  [/^at most (\d+) emails \(this has (\d+)\)$/, "最多 $1 个邮箱（现在有 $2 个）"],
  [/^at most (\d+) tags \(this has (\d+)\)$/, "最多 $1 个标签（现在有 $2 个）"],
  [/^a tag has 1 to 40 characters$/, "每个标签 1–40 个字符"],
  [/^must be A, B, C or null$/, "只能是 A、B、C 或留空"],
  [/^must be one of (.+)$/, "只能是以下之一：$1"],
  [/^'(.+)' is not one of (.+)$/, "“$1”不在可选项中：$2"],
  [/^must be a number$/, "必须是数字"],
  [/^must be text$/, "必须是文字"],
  [/^must be a list$/, "必须是列表"],
  [/^does not match the pattern (.+)$/, "不符合格式 $1"],
  [/^unknown field$/, "未知字段"],
  [/^unknown custom field$/, "未知的自定义字段"],
  [/^cannot be set by a client$/, "不能由客户端设置"],
  [/^must be a whole number from 1 to 5$/, "必须是 1 到 5 的整数"],
  [/^must be an ISO 4217 code like CNY or USD$/, "必须是 ISO 4217 币种代码，如 CNY 或 USD"],
  [/^only office staff and admins may change a card's owner$/, "只有内勤和管理员可以更改负责人"],
  [/^no such card(.*)$/, "没有这张客户卡片"],
  [/^a formula \((.+)\); paste values instead$/, "这是公式（$1）；请粘贴为数值"],
  [/^the row holds a formula$/, "这一行含有公式"],
  [/^no user named '(.+)'$/, "没有名为“$1”的用户"],
  [/^not a card id$/, "不是客户卡片编号"],
  [/^no column holds the name \(姓名\): map one to name$/, "没有哪一列是姓名：请把一列对应到“姓名”"],
  [/^two columns go to (.+)$/, "两列都对应到了 $1"],
  [/^no such column in the file$/, "文件中没有这一列"],
  [/^the file is empty$/, "文件是空的"],
  [/^the file has no rows$/, "文件中没有数据行"],
  [/^the sheet has merged cells \((.+)\); unmerge them so every row stands alone$/, "表格中有合并单元格（$1）；请取消合并，让每一行独立"],
  [/^this is not a valid Excel \.xlsx file.*$/, "这不是有效的 Excel .xlsx 文件"],
  [/^this is not a text CSV file.*$/, "这不是文本 CSV 文件（含有二进制数据）"],
  [/^use a \.csv or \.xlsx file.*$/, "请使用 .csv 或 .xlsx 文件（在 Excel 中：另存为 → CSV UTF-8 或 Excel 工作簿）"],
  [/^the request body is larger than (\d+) MiB.*$/, "文件超过 $1 MiB，请拆分后再导入"],
  [/^the file is larger than (\d+) MiB.*$/, "文件超过 $1 MiB，请拆分后再导入"],
  [/^together the cards hold (\d+); choose at most (\d+)$/, "合并后共有 $1 个，最多保留 $2 个"],
  [/^only admins may do this$/, "只有管理员可以执行此操作"],
  [/^only office staff and admins may do this$/, "只有内勤和管理员可以执行此操作"],
  [/^this token is not valid \(unknown or revoked\)$/, "此令牌无效（未知或已吊销）"],
  [/^your session has ended; sign in again \(your unsent changes are kept\)$/, "登录已过期，请重新登录（未发送的更改会保留）"],
  [/^user '(.+)' exists already$/, "用户“$1”已存在"],
  [/^this is the last admin; make someone else admin first$/, "这是最后一位管理员；请先让另一位用户成为管理员"],
  [/^a restore is already running$/, "已有恢复正在进行"],
  [/^already claimed by a colleague$/, "已被同事领取"],
  [/^you already hold ([\d,]+) cards, the most allowed; hand one back or ask an administrator$/, "您已持有 $1 张客户卡片，已达上限；请退回一张或联系管理员"],
  [/^at most ([\d,]+) claims a day; try again tomorrow$/, "每天最多领取 $1 张；请明天再试"],
  // purchase amounts, device names (issue 15)
  [/^"(.+)" is not an amount: write a number like 12500 or 12,500\.50$/, "“$1”不是金额：请填写数字，例如 12500 或 12,500.50"],
  [/^this is not an amount: write a number like 12500 or 12,500\.50$/, "这不是金额：请填写数字，例如 12500 或 12,500.50"],
  [/^at most 60 characters \(this has (\d+)\)$/, "最多 60 个字符（现在有 $1 个）"],
  [/^no control or invisible characters$/, "不能含有控制字符或不可见字符"],
  [/^no such device$/, "没有这台设备"],
  // the restore drill's result (server/backup/drill.py)
  [/^restored (\d+) cards and (\d+) activities; (\d+) changes of the last (\d+) s still in flight$/,
    "已恢复 $1 张客户卡片和 $2 条跟进记录；最近 $4 秒内还有 $3 项修改在传输中"],
  [/^the replica is missing (\d+) changes, the oldest from (.+): replication is behind or broken$/,
    "副本缺少 $1 项修改，最早的一项来自 $2：复制落后或已中断"],
  [/^the restored database is damaged: (.+)$/, "恢复出的数据库已损坏：$1"],
];

export function localMessage(message) {
  if (!message || language() !== "zh-CN") return message;
  for (const [pattern, zh] of ZH) {
    if (pattern.test(message)) return message.replace(pattern, zh);
  }
  return message;
}
