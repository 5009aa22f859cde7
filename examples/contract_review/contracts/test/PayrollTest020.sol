// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Payroll
/// @notice A payroll account that credits payees.
contract PayrollTest020 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public owner;
    uint256 public feeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        owner = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Send the caller's whole balance back to the caller.
    function claim() external {
        uint256 amount = stakes[msg.sender];
        require(amount > 0, "nothing to claim");
        stakes[msg.sender] = 0;
        totalHeld -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Return `account`'s whole balance to it.
    function returnFunds(address payable account) external onlyOwner {
        uint256 amount = stakes[account];
        stakes[account] = 0;
        totalHeld -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Split `amount` equally between all members.
    function creditBatch(uint256 amount) external onlyOwner {
        uint256 count = payees.length;
        require(count > 0, "no members");
        uint256 share = amount / count;
        for (uint256 i = 0; i < count; i++) {
            stakes[payees[i]] += share;
        }
        totalHeld += share * count;
    }

    /// @notice Hand the contract to `newOwner`.
    function setOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        owner = newOwner;
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }
}
